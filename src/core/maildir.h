/*
 * maildir.h - the one writer of whole files that readers must never see
 * half of: the spool maildirs (replies, SMS) and single files (metrics).
 *
 * Every write goes: a fresh temporary name (O_EXCL, O_NOFOLLOW: never an
 * old file, never through a symlink), every byte written (short writes and
 * EINTR loop), fsync of the file, close checked, rename onto the final
 * name, fsync of the folder that holds it. Any step failing removes the
 * temporary file and returns -1 with errno set.
 */
#ifndef TFADESK_MAILDIR_H
#define TFADESK_MAILDIR_H

#include <stddef.h>

/* Makes DIR and its tmp/, new/ and cur/ (MODE); -1 with errno set. */
int maildir_make(const char *dir, int mode);
/* A name unique to this host, process and call (time.PpidQn.host, as
 * maildir(5) asks). Owned. */
char *maildir_unique_name(void);
/*
 * Delivers LEN bytes at DATA into the maildir DIR (tmp/, new/ must exist)
 * as new/NAME (NAME NULL: a unique name; a NAME with '/' or a leading '.'
 * is refused with EINVAL). A file already at new/NAME is replaced. On
 * success *PATHP (if not NULL) is the final path, owned.
 */
int maildir_deliver(const char *dir, const char *name, const void *data,
    size_t len, int mode, char **pathp);
/* PATH replaced as a whole: PATH.tmp.<unique> then rename, as above. */
int write_file_atomic(const char *path, const void *data, size_t len,
    int mode);

#endif
