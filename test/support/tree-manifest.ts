/**
 * What a file tree holds, as the unpack differential compares it: per path its type, mode,
 * owner, size (regular files), link target, device number and extended attributes, plus
 * the groups of paths that share one inode (hard links). Read with python3's os module,
 * since Node's fs lists no extended attributes.
 */
import { execFileSync } from 'node:child_process';

export interface TreeEntry {
  path: string;
  /** 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket' */
  type: string;
  /** Permission bits incl. setuid, setgid and sticky (octal text). */
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  link?: string;
  rdev?: string;
  /** name → hex value; the overlay's own (trusted.overlay.*) left out. */
  xattrs: Record<string, string>;
  /** Modification time in nanoseconds (text), with { mtimes: true }. */
  mtime?: string;
}

export interface TreeManifest {
  entries: TreeEntry[];
  /** Sorted groups (sorted paths) of names of one inode, for files with more than one name. */
  hardLinks: string[][];
}

const SCRIPT = String.raw`
import json, os, stat, sys
root = sys.argv[1]
with_mtimes = sys.argv[2] == '1'
entries = []
inodes = {}
def kind(m):
    for name, test in (('dir', stat.S_ISDIR), ('file', stat.S_ISREG), ('symlink', stat.S_ISLNK), ('char', stat.S_ISCHR),
                       ('block', stat.S_ISBLK), ('fifo', stat.S_ISFIFO), ('socket', stat.S_ISSOCK)):
        if test(m): return name
    return 'unknown'
def visit(rel):
    full = os.path.join(root, rel) if rel else root
    st = os.lstat(full)
    e = {'path': rel or '.', 'type': kind(st.st_mode), 'mode': oct(stat.S_IMODE(st.st_mode)), 'uid': st.st_uid, 'gid': st.st_gid, 'xattrs': {}}
    if stat.S_ISREG(st.st_mode):
        e['size'] = st.st_size
        if st.st_nlink > 1: inodes.setdefault((st.st_dev, st.st_ino), []).append(e['path'])
    if stat.S_ISLNK(st.st_mode): e['link'] = os.readlink(full)
    if with_mtimes: e['mtime'] = str(st.st_mtime_ns)
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode): e['rdev'] = '%d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
    try:
        names = os.listxattr(full, follow_symlinks=False)
    except OSError:
        names = []
    for n in names:
        if n.startswith('trusted.overlay.'): continue
        e['xattrs'][n] = os.getxattr(full, n, follow_symlinks=False).hex()
    entries.append(e)
    if stat.S_ISDIR(st.st_mode):
        for child in sorted(os.listdir(full)):
            visit(os.path.join(rel, child) if rel else child)
visit('')
links = sorted(sorted(g) for g in inodes.values() if len(g) > 1)
json.dump({'entries': entries, 'hardLinks': links}, sys.stdout)
`;

export function treeManifest(root: string, options: { mtimes?: boolean } = {}): TreeManifest {
  return JSON.parse(execFileSync('python3', ['-c', SCRIPT, root, options.mtimes ? '1' : '0'], { encoding: 'utf8', maxBuffer: 1 << 28 })) as TreeManifest;
}
