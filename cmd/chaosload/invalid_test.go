package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestValidateRefusesInvalidFiles runs `chaosload validate` on every file of
// config/testdata/invalid: each is a small experiment with one kind of bad
// input (mostly a number out of its range), and ends with a "# want:
// LINE:COL: message" comment per problem it must report. Each exits 2 and
// reports exactly those problems, at those positions.
func TestValidateRefusesInvalidFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../config/testdata/invalid/*.yaml")
	if err != nil || len(files) < 20 {
		t.Fatalf("want at least 20 invalid files, found %d (%v)", len(files), err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			t.Parallel()
			want := wantedProblems(t, file)
			code, stdout, stderr := invoke(t, context.Background(), "validate", file)
			if code != exitInvalid {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitInvalid, stdout, stderr)
			}
			got := strings.Split(strings.TrimSpace(stderr), "\n")
			for _, w := range want {
				if !slices.Contains(got, file+":"+w) {
					t.Errorf("no problem %q in:\n%s", w, stderr)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d problems reported, want %d:\n%s", len(got), len(want), stderr)
			}
		})
	}
}

// wantedProblems reads the "# want: " comments of a file.
func wantedProblems(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(string(b), "\n") {
		if w, ok := strings.CutPrefix(line, "# want: "); ok {
			want = append(want, w)
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s has no # want: comment", file)
	}
	return want
}
