/*
 * caps.c — credentials and capabilities: who the process is, and which of
 * root's privileges it keeps.
 *
 * Capabilities split root's power into bits. Each process has sets of them:
 * the bounding set (an upper limit for what execve can grant), permitted,
 * effective (what the kernel checks), inheritable, and ambient (kept across
 * execve of ordinary programs by non-root users). Changing uid from 0 to
 * non-zero clears permitted and effective unless PR_SET_KEEPCAPS is set.
 *
 * Quirk: glibc's setuid family signals every thread of a multithreaded
 * process to change credentials together. The helper is single-threaded
 * and, after a raw clone, glibc's idea of its threads is stale, so the
 * credential calls here are raw syscalls: exactly what the plan says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "plan.h"
#include "syscalls.h"

static int set_ids(uint64_t uid, uint64_t gid, struct berr *err)
{
	if (syscall(SYS_setresgid, (gid_t)gid, (gid_t)gid, (gid_t)gid) < 0)
		return make_error(err, errno, "setresgid %llu", (unsigned long long)gid);
	if (syscall(SYS_setresuid, (uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
		return make_error(err, errno, "setresuid %llu", (unsigned long long)uid);
	return 0;
}

/* Become root (or any id) of a new user namespace: the ids must already be
 * in the maps the monitor wrote. */
int caps_set_ids(uint64_t uid, uint64_t gid, struct berr *err)
{
	return set_ids(uid, gid, err);
}

/* Switch to the container's user while keeping permitted capabilities; a
 * following CAPSET decides which of them survive. */
int caps_setuid_gid(uint64_t uid, uint64_t gid, struct berr *err)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return make_error(err, errno, "PR_SET_KEEPCAPS");
	return set_ids(uid, gid, err);
}

int caps_setgroups(char *const *groups, uint32_t n, struct berr *err)
{
	cleanup_free gid_t *gids = xcalloc(n, sizeof(gid_t));

	for (uint32_t i = 0; i < n; i++) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(groups[i], &end, 10);
		if (errno || end == groups[i] || *end || v > (gid_t)-1)
			return make_error(err, EINVAL, "group %s is not a gid", groups[i]);
		gids[i] = v;
	}
	if (syscall(SYS_setgroups, (size_t)n, gids) < 0)
		return make_error(err, errno, "setgroups (%u groups)", n);
	return 0;
}

int caps_bounding_set(uint64_t keep, struct berr *err)
{
	for (int cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		/* PR_CAPBSET_READ fails with EINVAL past the kernel's last
		 * capability: that ends the loop without reading /proc, which
		 * may not be mounted at this point. */
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return make_error(err, errno,
					  "drop capability %d from the bounding set", cap);
	}
	return 0;
}

int caps_capset(uint64_t eff, uint64_t perm, uint64_t inh, struct berr *err)
{
	struct berth_cap_header h = { .version = BERTH_CAP_VERSION_3, .pid = 0 };
	struct berth_cap_data d[2] = {
		{ (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
	};

	if (syscall(SYS_capset, &h, d) < 0)
		return make_error(err, errno,
				  "capset effective %#llx permitted %#llx inheritable %#llx",
				  (unsigned long long)eff, (unsigned long long)perm,
				  (unsigned long long)inh);
	return 0;
}

/* A capability can be raised in the ambient set only while it is both
 * permitted and inheritable: the plan puts CAPSET first. */
int caps_ambient(uint64_t raise, struct berr *err)
{
	for (int cap = 0; cap < 64; cap++) {
		if (!(raise & (1ULL << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return make_error(err, errno, "raise ambient capability %d", cap);
	}
	return 0;
}

int caps_no_new_privs(struct berr *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return make_error(err, errno, "PR_SET_NO_NEW_PRIVS");
	return 0;
}
