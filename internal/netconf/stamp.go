package netconf

import "os"

// fileStamp identifies one version of a file without reading it: a
// replaced, rewritten or chmod'ed file gets a new stamp.
type fileStamp struct {
	path  string
	size  int64
	mtime int64
	mode  os.FileMode
	ino   uint64
	ctime int64
}

func stampOf(path string, fi os.FileInfo) fileStamp {
	ino, ctime := inodeAndCtime(fi)
	return fileStamp{path: path, size: fi.Size(), mtime: fi.ModTime().UnixNano(), mode: fi.Mode(), ino: ino, ctime: ctime}
}
