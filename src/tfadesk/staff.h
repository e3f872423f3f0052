/*
 * staff.h - the staff logins of the desk (staff.c: tfadesk staff
 * add|list|disable|enable).
 */
#ifndef STAFF_H
#define STAFF_H

#define STAFF_MIN_PASSWORD 10

/* A staff login name: 1-32 of a-z 0-9 . - _ */
int staff_valid_name(const char *);

#endif
