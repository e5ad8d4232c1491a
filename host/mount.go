package host

import (
	"errors"
	"fmt"
	"syscall"
)

// Mount is a tmpfs chaosload mounted, until Unmount.
type Mount struct {
	j     *Journal
	entry string
	dir   string
}

// MountTmpfs mounts a tmpfs with options (size=..., mode=..., uid=...) at
// dir. The guard unmounts it should chaosload die before Unmount.
func MountTmpfs(j *Journal, dir, options string) (*Mount, error) {
	entry, err := j.add("umount -l " + quote(dir) + "\n")
	if err != nil {
		return nil, err
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, options); err != nil {
		_ = j.done(entry)
		return nil, fmt.Errorf("mount a tmpfs (%s) at %s: %w", options, dir, err)
	}
	return &Mount{j: j, entry: entry, dir: dir}, nil
}

// Unmount unmounts the tmpfs, detaching it at once even if a file there is
// still open. It is idempotent.
func (m *Mount) Unmount() error {
	if m.entry == "" {
		return nil
	}
	if err := syscall.Unmount(m.dir, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("unmount %s: %w", m.dir, err)
	}
	err := m.j.done(m.entry)
	m.entry = ""
	return err
}
