/*
 * admin.h - what the staff commands share (admin.c).
 */
#ifndef ADMIN_H
#define ADMIN_H

/* admin.c: who is behind a change from the command line, "admin:USER"
 * (SUDO_USER, USER, LOGNAME, the passwd entry). Owned. */
char *staff_actor(void);

#endif
