/*
 * table.h - aligned plain-text tables for the terminal (table.c).
 */
#ifndef TABLE_H
#define TABLE_H

#include <stdio.h>

struct table;
struct table *table_new(size_t ncols, ...);   /* the column titles */
void table_row(struct table *, ...);          /* ncols strings, NULL = "-" */
void table_print(struct table *);             /* and frees it */
void table_fprint(FILE *, struct table *);    /* the same to a stream */

#endif
