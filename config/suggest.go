package config

import (
	"strconv"
	"strings"
)

// didYouMean returns ` (did you mean "X"?)` when one of valid is close to s
// (a typo, another case, snake_case for camelCase), else "".
func didYouMean(s string, valid []string) string {
	if c := closest(s, valid); c != "" {
		return " (did you mean " + strconv.Quote(c) + "?)"
	}
	return ""
}

// closest returns the entry of valid nearest to s, "" when none is near
// enough to be a likely typo.
func closest(s string, valid []string) string {
	best, bestD := "", -1
	for _, v := range valid {
		if v == s {
			continue
		}
		if fold(v) == fold(s) {
			return v
		}
		d := editDistance(strings.ToLower(s), strings.ToLower(v))
		if bestD < 0 || d < bestD {
			best, bestD = v, d
		}
	}
	if bestD < 0 || bestD > tolerance(len(s)) {
		return ""
	}
	return best
}

// tolerance is how many edits a word of n bytes may be off by.
func tolerance(n int) int {
	switch {
	case n <= 2:
		return 0
	case n <= 4:
		return 1
	case n < 10:
		return 2
	}
	return 3
}

// fold drops case and separators: "max_vus" and "maxVUs" fold alike.
func fold(s string) string {
	return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(s))
}

// editDistance is the optimal string alignment distance of a and b, in
// bytes: insertions, deletions, substitutions and swaps of neighbours
// ("nmae" is one edit from "name").
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 { // not a typo of a key; keep it cheap
		return max(len(a), len(b))
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
