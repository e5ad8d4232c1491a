package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/chaosload/chaosload/host"
	"github.com/rs/zerolog"
)

// minDisk is the smallest filesystem of its own PostgreSQL's data
// directory may have: the cluster's files take about 25 MiB.
const minDisk = 32 << 20

// pgDisk is a tmpfs of a fixed size holding PostgreSQL's data directory.
type pgDisk struct {
	dir  string
	undo *host.Mount
}

// mountDisk mounts a tmpfs of size bytes at parent/disk, owned by cred's
// user. The host's guard unmounts it should chaosload die first.
func mountDisk(parent string, size int64, cred *syscall.Credential, logger zerolog.Logger) (*pgDisk, error) {
	if size < minDisk {
		return nil, fmt.Errorf("a data directory filesystem of %d bytes is too small: give at least 32MB", size)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("a filesystem of its own for PostgreSQL's data (postgresDisk) is a tmpfs mount, which needs root (running as uid %d)", os.Geteuid())
	}
	dir := filepath.Join(parent, "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	opts := "size=" + strconv.FormatInt(size, 10) + ",mode=0700"
	if cred != nil {
		opts += fmt.Sprintf(",uid=%d,gid=%d", cred.Uid, cred.Gid)
	}
	j, err := host.Guarded(logger)
	if err != nil {
		return nil, err
	}
	m, err := host.MountTmpfs(j, dir, opts)
	if err != nil {
		return nil, fmt.Errorf("mount the data directory's filesystem: %w", err)
	}
	return &pgDisk{dir: dir, undo: m}, nil
}

// unmount unmounts the tmpfs (its data goes with it).
func (d *pgDisk) unmount() error {
	if d == nil {
		return nil
	}
	return d.undo.Unmount()
}
