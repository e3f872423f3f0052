/*
 * source-maildir.c - a local maildir (the embedded default source).
 *
 * Reads new/ and then cur/, each sorted by file name. The key of a message
 * is "maildir:" + its unique name (the file name up to ":2,"), so it keeps
 * its identity when it moves from new/ to cur/ or gains flags. After the
 * store commit, source.after applies:
 *   seen         new/NAME -> cur/NAME:2,S (flags kept, S added)
 *   delete       unlink
 *   move:FOLDER  rename into the Maildir++ folder PATH/.FOLDER (created)
 * A message larger than limits.max_bytes is left in place with a warning.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tfadesk.h"
#include "store.h"
#include "tfadesk/source.h"

struct mdir {
	char *path;
	char **names;       /* "new/NAME" or "cur/NAME", sorted per folder */
	size_t n, next;
};

static int md_open(struct source *);
static int md_next(struct source *, struct source_msg *);
static int md_commit(struct source *, struct source_msg *);
static void md_close(struct source *);

const struct source_ops source_maildir_ops = {
	"maildir", SOURCE_MAILDIR, md_open, md_next, md_commit, NULL, md_close, NULL
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the regular entries of PATH/SUB to the list, sorted. */
static int
md_scan(struct mdir *m, const char *sub)
{
	char *dir = xstrfmt("%s/%s", m->path, sub);
	struct dirent *de;
	size_t first = m->n, cap = m->n;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		log_warn("source: maildir %s", dir);
		free(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (m->n == cap) {
			cap = cap ? cap * 2 : 64;
			m->names = xreallocarray(m->names, cap, sizeof *m->names);
		}
		m->names[m->n++] = xstrfmt("%s/%s", sub, de->d_name);
	}
	closedir(d);
	free(dir);
	if (m->n > first)
		qsort(m->names + first, m->n - first, sizeof *m->names,
		    cmp_str);
	return 0;
}

static int
md_open(struct source *src)
{
	struct mdir *m = xcalloc(1, sizeof *m);
	const char *f = src->cfg->source.after_folder;

	src->priv = m;
	if (src->cfg->source.path == NULL) {
		log_warnx("source: maildir: source.path is not set");
		return SRC_CONFIG;
	}
	if (src->cfg->source.after == AFTER_MOVE && (f == NULL ||
	    f[0] == '\0' || strchr(f, '/') != NULL || f[0] == '.')) {
		log_warnx("source: maildir: source.after: move:%s: not usable "
		    "(seen, delete or move:FOLDER)", f ? f : "");
		return SRC_CONFIG;
	}
	m->path = xstrdup(src->cfg->source.path);
	if (md_scan(m, "new") == -1 || md_scan(m, "cur") == -1)
		return SRC_BOX_BAD;
	return SRC_OK;
}

/* The unique part of a maildir file name: up to the ":2," info. */
static char *
md_key(const char *name)
{
	const char *base = strchr(name, '/') + 1;
	const char *info = strstr(base, ":2,");

	return xstrfmt("maildir:%.*s", (int)(info ? (size_t)(info - base) :
	    strlen(base)), base);
}

/* Is source.after already done for this file (a seen file in cur/)? */
static int
md_done(const struct source *src, const char *name)
{
	const char *info;

	if (src->cfg->source.after != AFTER_SEEN ||
	    strncmp(name, "cur/", 4) != 0)
		return 0;
	info = strstr(name, ":2,");
	return info && strchr(info + 3, 'S') != NULL;
}

static int
md_next(struct source *src, struct source_msg *msg)
{
	struct mdir *m = src->priv;
	struct stat sb;
	char *file, *key;
	const char *name;
	size_t max = (size_t)src->cfg->limits.max_bytes;
	int known;

	memset(msg, 0, sizeof *msg);
	while (m->next < m->n) {
		name = m->names[m->next++];
		key = md_key(name);
		if ((known = store_source_known(src->store, key)) == -1) {
			free(key);
			return SRC_TEMP;
		}
		if (known && md_done(src, name)) {
			free(key);
			continue;
		}
		file = xstrfmt("%s/%s", m->path, name);
		if (stat(file, &sb) == -1 || !S_ISREG(sb.st_mode)) {
			/* gone since the listing (another reader) */
			free(file);
			free(key);
			continue;
		}
		msg->key = key;
		msg->priv = xstrdup(name);
		if (known) {
			free(file);
			return SRC_OK;
		}
		if ((size_t)sb.st_size > max) {
			log_warnx("source: maildir %s: %s: %lld bytes, over "
			    "limits.max_bytes (%zu): left in place", m->path,
			    name, (long long)sb.st_size, max);
			free(file);
			return SRC_MSG_BAD;
		}
		if (read_file(file, max, &msg->raw, &msg->len) == -1) {
			int gone = errno == ENOENT;
			if (!gone)
				log_warn("source: maildir %s: %s", m->path,
				    name);
			free(file);
			source_msg_clear(msg);
			if (gone)
				continue;
			return SRC_MSG_BAD;
		}
		free(file);
		return SRC_OK;
	}
	return SRC_EOF;
}

/* cur/ name with the S flag added to the flags after ":2," (kept sorted). */
static char *
md_seen_name(const char *name)
{
	const char *base = strchr(name, '/') + 1;
	const char *info = strstr(base, ":2,");
	struct buf b;
	const char *f;
	int added = 0;

	buf_init(&b);
	buf_adds(&b, "cur/");
	if (info == NULL) {
		buf_adds(&b, base);
		buf_adds(&b, ":2,S");
		return buf_steal(&b);
	}
	buf_add(&b, base, (size_t)(info - base));
	buf_adds(&b, ":2,");
	for (f = info + 3; *f; f++) {
		if (!added && *f >= 'S') {
			if (*f != 'S')
				buf_addc(&b, 'S');
			added = 1;
		}
		buf_addc(&b, *f);
	}
	if (!added)
		buf_addc(&b, 'S');
	return buf_steal(&b);
}

static int
md_rename(const char *dir, const char *from, const char *to)
{
	char *a = xstrfmt("%s/%s", dir, from), *b = xstrfmt("%s/%s", dir, to);
	int rc = 0;

	if (strcmp(a, b) != 0 && rename(a, b) == -1) {
		log_warn("source: maildir %s: rename %s to %s", dir, from, to);
		rc = -1;
	}
	free(a);
	free(b);
	return rc;
}

static int
md_commit(struct source *src, struct source_msg *msg)
{
	struct mdir *m = src->priv;
	const char *name = msg->priv;
	enum source_after after = src->cfg->source.after;
	char *to, *file;
	int rc = SRC_OK;

	if (src->dry_run || name == NULL)
		return SRC_OK;
	if (after == AFTER_SEEN) {
		to = md_seen_name(name);
		if (md_rename(m->path, name, to) == -1)
			rc = SRC_MSG_BAD;
		free(to);
	} else if (after == AFTER_DELETE) {
		file = xstrfmt("%s/%s", m->path, name);
		if (unlink(file) == -1 && errno != ENOENT) {
			log_warn("source: maildir %s: unlink %s", m->path,
			    name);
			rc = SRC_MSG_BAD;
		}
		free(file);
	} else {
		char *folder = xstrfmt("%s/.%s", m->path,
		    src->cfg->source.after_folder);
		char *sub;
		for (int i = 0; i < 3; i++) {
			sub = xstrfmt("%s/%s", folder,
			    i == 0 ? "tmp" : i == 1 ? "new" : "cur");
			if (mkdir_p(sub, 0700) == -1) {
				log_warn("source: maildir %s: mkdir", sub);
				rc = SRC_BOX_BAD;
			}
			free(sub);
		}
		to = xstrfmt(".%s/%s", src->cfg->source.after_folder, name);
		if (rc == SRC_OK && md_rename(m->path, name, to) == -1)
			rc = SRC_MSG_BAD;
		free(to);
		free(folder);
	}
	return rc;
}

static void
md_close(struct source *src)
{
	struct mdir *m = src->priv;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->names[i]);
	free(m->names);
	free(m->path);
	free(m);
	src->priv = NULL;
}
