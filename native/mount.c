/*
 * mount.c — the container's filesystem view, in its own mount namespace.
 *
 * mount(2) attaches a filesystem (or, with MS_BIND, an existing directory
 * tree) at a path; pivot_root(2) swaps the namespace's root for the rootfs.
 *
 * The *_IN_ROOT ops act on paths inside a rootfs that the image controls,
 * before pivot_root. A plain path walk would follow a symlink such as
 * rootfs/etc -> /etc out to the host. openat2(RESOLVE_IN_ROOT) resolves
 * every symlink and ".." as if the rootfs were "/", so the walk cannot
 * leave it; the op then acts on the resulting fd (through /proc/self/fd for
 * mount, through *at() calls for the rest), never on the path again.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "plan.h"
#include "syscalls.h"

enum { CREATE_NONE = 0, CREATE_DIR = 1, CREATE_FILE = 2 };

int mnt_mount(const char *source, const char *target, const char *fstype,
	      uint64_t flags, const char *data, struct berr *err)
{
	if (mount(source, target, fstype, flags, data) < 0)
		return make_error(err, errno, "mount %s on %s (type %s, flags %#llx)",
				  source ? source : "none", target,
				  fstype ? fstype : "none",
				  (unsigned long long)flags);
	return 0;
}

/* openat2 under rootfd with RESOLVE_IN_ROOT; magic links (/proc/x/fd/y)
 * are refused as well, as they could point anywhere. */
static int open_in_root(int rootfd, const char *path, uint64_t flags)
{
	struct berth_open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	for (int tries = 0; tries < 32; tries++) {
		int fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);

		/* Quirk: EAGAIN means a rename or mount raced with ".."
		 * resolution and the kernel could not prove the walk stayed
		 * inside; it asks us to try again. */
		if (fd >= 0 || errno != EAGAIN)
			return fd;
	}
	return -1;
}

/*
 * Resolve `path` inside `rootfd` to an O_PATH fd. With create, missing
 * components are made one by one: each prefix is resolved from the root
 * again (so symlinks met on the way are followed inside it), and a missing
 * entry is created with mkdirat/openat relative to its resolved parent.
 * Neither call follows a symlink in its last component (O_CREAT|O_EXCL
 * refuses one), so nothing is ever created outside the root. A dangling
 * symlink stays missing after EEXIST and fails with ENOENT.
 */
static int resolve(int rootfd, const char *path, uint64_t create,
		   struct berr *err)
{
	char buf[PATH_MAX];
	cleanup_close int dir = -1;
	int fd = open_in_root(rootfd, path, O_PATH);
	char *p;

	if (fd >= 0)
		return fd;
	if (errno != ENOENT || create == CREATE_NONE)
		return make_error(err, errno, "resolve %s in root", path);
	if (strlen(path) >= sizeof buf)
		return make_error(err, ENAMETOOLONG, "%s", path);
	strcpy(buf, path);
	if ((dir = open_in_root(rootfd, "/", O_PATH)) < 0)
		return make_error(err, errno, "open root");
	for (p = buf; *p;) {
		char *end, saved;
		bool last;

		p += strspn(p, "/");
		if (!*p)
			break;
		end = p + strcspn(p, "/");
		last = end[strspn(end, "/")] == '\0';
		saved = *end;
		*end = '\0';
		fd = open_in_root(rootfd, buf, O_PATH);
		if (fd < 0 && errno == ENOENT) {
			int r;

			if (last && create == CREATE_FILE) {
				r = openat(dir, p, O_WRONLY | O_CREAT | O_EXCL |
					   O_NOFOLLOW | O_CLOEXEC, 0644);
				if (r >= 0)
					close(r);
			} else {
				r = mkdirat(dir, p, 0755);
			}
			if (r < 0 && errno != EEXIST)
				return make_error(err, errno, "create %s in root", buf);
			fd = open_in_root(rootfd, buf, O_PATH);
		}
		if (fd < 0)
			return make_error(err, errno, "resolve %s in root", buf);
		close(dir);
		dir = fd;
		*end = saved;
		p = end;
	}
	fd = dir;
	dir = -1;
	return fd;
}

static int open_root(const char *root, struct berr *err)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return make_error(err, errno, "open root %s", root);
	return fd;
}

int mnt_mount_in_root(const char *root, const char *target, const char *source,
		      const char *fstype, uint64_t flags, const char *data,
		      uint64_t create, struct berr *err)
{
	cleanup_close int rootfd = open_root(root, err);
	cleanup_close int fd = -1;
	char proc[64];

	if (rootfd < 0)
		return -1;
	if ((fd = resolve(rootfd, target, create, err)) < 0)
		return -1;
	/* mount(2) follows the /proc/self/fd magic link to exactly the
	 * dentry we resolved: the path is not looked up again. */
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (mount(source, proc, fstype, flags, data) < 0)
		return make_error(err, errno, "mount %s on %s in %s (type %s, flags %#llx)",
				  source ? source : "none", target, root,
				  fstype ? fstype : "none",
				  (unsigned long long)flags);
	return 0;
}

/* Split "a/b/c" into the parent "a/b" (resolved, created) and "c". */
static int resolve_parent(int rootfd, const char *path, char *base,
			  size_t basesz, struct berr *err)
{
	char dir[PATH_MAX];
	size_t len = strlen(path);
	char *slash;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof dir)
		return make_error(err, ENAMETOOLONG, "%s", path);
	memcpy(dir, path, len);
	dir[len] = '\0';
	slash = strrchr(dir, '/');
	if (strlen(slash ? slash + 1 : dir) >= basesz)
		return make_error(err, ENAMETOOLONG, "%s", path);
	strcpy(base, slash ? slash + 1 : dir);
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return make_error(err, EINVAL, "%s names no entry", path);
	if (slash)
		slash[1] = '\0';
	else
		strcpy(dir, "/");
	return resolve(rootfd, dir, CREATE_DIR, err);
}

int mnt_mknod_in_root(const char *root, const char *target, uint64_t mode,
		      uint64_t dev, uint64_t uid, uint64_t gid,
		      const char *bind_source, struct berr *err)
{
	cleanup_close int rootfd = open_root(root, err);
	cleanup_close int parent = -1;
	char base[NAME_MAX + 1];
	mode_t umask_before;
	int made;

	if (rootfd < 0 || (parent = resolve_parent(rootfd, target, base,
						   sizeof base, err)) < 0)
		return -1;
	if (unlinkat(parent, base, 0) < 0 && errno != ENOENT)
		return make_error(err, errno, "remove %s in %s", target, root);
	/* The mode is the plan's exactly, not less the helper's umask. */
	umask_before = umask(0);
	made = mknodat(parent, base, (mode_t)mode, (dev_t)dev);
	umask(umask_before);
	if (made < 0 && errno == EPERM && bind_source)
		return mnt_mount_in_root(root, target, bind_source, NULL,
					 MS_BIND, NULL, CREATE_FILE, err);
	if (made < 0)
		return make_error(err, errno, "mknod %s in %s (mode %#llo)", target,
				  root, (unsigned long long)mode);
	if (fchownat(parent, base, (uid_t)uid, (gid_t)gid,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return make_error(err, errno, "chown %s in %s to %llu:%llu", target,
				  root, (unsigned long long)uid,
				  (unsigned long long)gid);
	return 0;
}

int mnt_symlink_in_root(const char *root, const char *linkpath,
			const char *target, struct berr *err)
{
	cleanup_close int rootfd = open_root(root, err);
	cleanup_close int parent = -1;
	char base[NAME_MAX + 1];

	if (rootfd < 0 || (parent = resolve_parent(rootfd, linkpath, base,
						   sizeof base, err)) < 0)
		return -1;
	if (symlinkat(target, parent, base) < 0 && errno != EEXIST)
		return make_error(err, errno, "symlink %s -> %s in %s", linkpath,
				  target, root);
	return 0;
}

/*
 * pivot_root(".", ".") stacks the old root on top of the new one at "/";
 * unmounting "." (lazily: processes may still hold it) then drops the old
 * root, without needing a directory for it inside the rootfs. pivot_root
 * refuses a shared root: the plan makes "/" private or slave before.
 */
int mnt_pivot_root(const char *root, struct berr *err)
{
	if (chdir(root) < 0)
		return make_error(err, errno, "chdir %s", root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return make_error(err, errno, "pivot_root to %s", root);
	if (umount2(".", MNT_DETACH) < 0)
		return make_error(err, errno, "detach the old root above %s", root);
	if (chdir("/") < 0)
		return make_error(err, errno, "chdir / in %s", root);
	return 0;
}

int mnt_chroot(const char *root, struct berr *err)
{
	if (chroot(root) < 0)
		return make_error(err, errno, "chroot %s", root);
	if (chdir("/") < 0)
		return make_error(err, errno, "chdir / in %s", root);
	return 0;
}

/*
 * The container's working directory, checked to be inside its root: a cwd
 * given as /proc/self/fd/N of an fd to a host directory would let the
 * container's program walk the host (CVE-2024-21626). The kernel reports such
 * a cwd as "(unreachable)/..." and getcwd() fails with ENOENT for it.
 */
int mnt_chdir(const char *path, struct berr *err)
{
	char cwd[PATH_MAX];

	if (chdir(path) < 0)
		return make_error(err, errno, "chdir %s", path);
	if (!getcwd(cwd, sizeof cwd) && errno == ENOENT)
		return make_error(err, ENOENT, "the working directory %s is outside "
				  "the container's root", path);
	return 0;
}

/* Hide a path: an empty read-only tmpfs over a directory, /dev/null over
 * anything else. */
int mnt_mask_path(const char *path, struct berr *err)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return make_error(err, errno, "stat %s", path);
	}
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
			return make_error(err, errno, "mount a read-only tmpfs on %s", path);
	} else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
		return make_error(err, errno, "bind /dev/null on %s", path);
	}
	return 0;
}

/*
 * Make a path read-only: bind it onto itself, so it is a mount of its own,
 * then remount that bind read-only. Only the top mount changes; mount(2)
 * cannot remount submounts in the same call.
 *
 * Quirk: in a user namespace the mount's nosuid/nodev/noexec and atime
 * flags are locked, and a remount that would clear one fails with EPERM.
 * So the remount repeats the flags it finds (statvfs), atime included.
 */
int mnt_readonly_path(const char *path, struct berr *err)
{
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
	struct statvfs sv;

	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		return make_error(err, errno, "bind %s onto itself", path);
	}
	if (statvfs(path, &sv) < 0)
		return make_error(err, errno, "statvfs %s", path);
	if (sv.f_flag & ST_NOSUID)
		flags |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		flags |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		flags |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		flags |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		flags |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		flags |= MS_RELATIME;
	else if (!(sv.f_flag & ST_NOATIME))
		flags |= MS_STRICTATIME;
	if (mount(NULL, path, NULL, flags, NULL) < 0)
		return make_error(err, errno, "remount %s read-only", path);
	return 0;
}
