package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairndb/cairn/internal/kvpb"
)

// The cluster marker is a small file beside the store, written and synced
// once the store is bootstrapped. It lets a node tell "never initialised"
// (bootstrap) from "initialised, but the store lost its identity" (a
// corrupt or emptied WAL, a deleted store): the latter must fail loudly, not
// silently start a new, empty cluster.
const clusterMarkerFile = "cluster-id"

// readClusterMarker returns the cluster id recorded in dir, or "".
func readClusterMarker(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, clusterMarkerFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the cluster marker: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeClusterMarker durably records the cluster id in dir.
func writeClusterMarker(dir, clusterID string) error {
	path := filepath.Join(dir, clusterMarkerFile)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(clusterID + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// checkClusterMarker compares the store's identity with the marker. ident
// nil means the store has none.
func checkClusterMarker(dir string, ident *kvpb.StoreIdent) error {
	marker, err := readClusterMarker(dir)
	if err != nil {
		return err
	}
	switch {
	case marker == "":
		return nil // first start, or a crash during the first bootstrap
	case ident == nil:
		return fmt.Errorf("data dir %s belongs to cluster %s but its store has no identity: the store is corrupt or was removed; refusing to start a new cluster over it (restore the store, or use a new data dir)", dir, marker)
	case ident.ClusterId != marker:
		return fmt.Errorf("data dir %s belongs to cluster %s but its store is from cluster %s: refusing to start", dir, marker, ident.ClusterId)
	}
	return nil
}
