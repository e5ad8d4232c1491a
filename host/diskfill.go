package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
)

// fillSeq numbers this process's filler files.
var fillSeq atomic.Uint32

// FillSpec says how much of a filesystem to fill. Set Share, Size or both.
type FillSpec struct {
	// Dir is the directory the filler file is made in; nothing is written
	// anywhere else.
	Dir string
	// Share fills the filesystem until this share of it is used (1: full),
	// as an unprivileged process sees it.
	Share float64
	// Size is how many bytes to write; with Share, the most to write.
	Size int64
}

// Space is a filesystem's size and what an unprivileged process may still
// write to it, in bytes.
type Space struct{ Total, Free int64 }

// SpaceOf reads the filesystem holding dir.
func SpaceOf(dir string) (Space, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return Space{}, err
	}
	return Space{Total: int64(st.Blocks) * st.Bsize, Free: int64(st.Bavail) * st.Bsize}, nil
}

// OnRootFS reports whether dir is on the filesystem mounted at /.
func OnRootFS(dir string) (bool, error) {
	var a, b syscall.Stat_t
	if err := syscall.Stat(dir, &a); err != nil {
		return false, err
	}
	if err := syscall.Stat("/", &b); err != nil {
		return false, err
	}
	return a.Dev == b.Dev, nil
}

// Fill is a filler file taking space on a filesystem until Release.
type Fill struct {
	j     *Journal
	entry string
	file  string
	// Written is the bytes allocated; Before and During the filesystem's
	// free space before the fill and once it was in place.
	Written        int64
	Before, During Space
}

// FillDisk makes a filler file in spec.Dir and allocates space to it
// (fallocate, or zeros where the filesystem has no fallocate) until the
// filesystem is as full as spec asks or refuses more. The guard removes the
// file should chaosload die before Release. ctx bounds the writing.
func FillDisk(ctx context.Context, j *Journal, spec FillSpec) (*Fill, error) {
	st, err := os.Stat(spec.Dir)
	if err != nil {
		return nil, fmt.Errorf("disk-fill: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("disk-fill: %s is not a directory", spec.Dir)
	}
	before, err := SpaceOf(spec.Dir)
	if err != nil {
		return nil, fmt.Errorf("disk-fill: %w", err)
	}
	want := wanted(spec, before)
	f := &Fill{j: j, Before: before,
		file: filepath.Join(spec.Dir, fmt.Sprintf(".chaosload-fill-%d-%d", os.Getpid(), fillSeq.Add(1)))}
	if f.entry, err = j.add("rm -f " + quote(f.file) + "\n"); err != nil {
		return nil, err
	}
	fh, err := os.OpenFile(f.file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		_ = j.done(f.entry)
		return nil, fmt.Errorf("disk-fill: %w", err)
	}
	f.Written, err = allocate(ctx, fh, want)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("disk-fill: %s: %w", f.file, err), f.Release())
	}
	f.During, _ = SpaceOf(spec.Dir)
	return f, nil
}

// wanted is how many bytes to allocate.
func wanted(spec FillSpec, sp Space) int64 {
	want := spec.Size
	if spec.Share > 0 {
		used := sp.Total - sp.Free
		want = max(int64(spec.Share*float64(sp.Total))-used, 0)
		if spec.Size > 0 {
			want = min(want, spec.Size)
		}
	}
	return want
}

// allocate gives want bytes to fh in chunks, smaller ones once the
// filesystem refuses a chunk, down to a page; it stops at want or when not
// even a page fits.
func allocate(ctx context.Context, fh *os.File, want int64) (int64, error) {
	const page = 4096
	var off int64
	chunk := int64(64 << 20)
	zeros := false
	for off < want && chunk >= page {
		if err := ctx.Err(); err != nil {
			return off, err
		}
		n := min(chunk, want-off)
		err := extend(fh, off, n, &zeros)
		switch {
		case err == nil:
			off += n
		case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
			chunk /= 2
		default:
			return off, err
		}
	}
	return off, nil
}

// extend allocates [off, off+n) of fh: fallocate, or zeros written when the
// filesystem has none (then *zeros stays set).
func extend(fh *os.File, off, n int64, zeros *bool) error {
	if !*zeros {
		err := syscall.Fallocate(int(fh.Fd()), 0, off, n)
		if !errors.Is(err, syscall.EOPNOTSUPP) {
			return err
		}
		*zeros = true
	}
	buf := make([]byte, min(n, 1<<20))
	for done := int64(0); done < n; {
		m := min(int64(len(buf)), n-done)
		if _, err := fh.WriteAt(buf[:m], off+done); err != nil {
			_ = fh.Truncate(off) // what did not fit is not counted
			return err
		}
		done += m
	}
	return nil
}

// File is the filler file's path.
func (f *Fill) File() string { return f.file }

// Release removes the filler file. It is idempotent.
func (f *Fill) Release() error {
	if f.entry == "" {
		return nil
	}
	if err := os.Remove(f.file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("disk-fill: remove %s: %w", f.file, err)
	}
	err := f.j.done(f.entry)
	f.entry = ""
	return err
}
