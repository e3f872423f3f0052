/*
 * quoted.h - a message's text split into its parts (quoted.c), for
 * mime.c: new text, quoted history, forwarded message, signature; and
 * whether a Subject says the message is a forward (for the rules too,
 * through mime.h).
 */
#ifndef QUOTED_H
#define QUOTED_H

struct buf;
struct msg;

/* M->text into new text (NT), quoted history (QT) and signature (SG); a
 * forwarded message where the new text ends goes into M->fwd_text and
 * M->fwd_subject. */
void mime_split_text(struct msg *m, struct buf *nt, struct buf *qt,
    struct buf *sg);
/* Trim trailing blanks of every line, and blank lines at both ends. */
void mime_tidy_text(struct buf *);
/* Does SUBJECT say the message is a forward ("Fwd:", "FW:", "WG:", "TR:",
 * after any "Re:" and "[tag]")? */
int mime_subject_forwarded(const char *subject);

#endif
