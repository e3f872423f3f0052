/*
 * process-policy.c - whom a ticket is about and whom its reply goes to:
 * the reseller the sender acts for, and the Reply-To policy (a reply never
 * goes to an address that is not the sender's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tfadesk.h"
#include "store.h"
#include "tfadesk/process-int.h"

/* Which reseller the ticket is about: the only one the sender is a
 * contact of, or the one of those named in the ticket. 0 found, 1 not
 * (the reason says why), -1 error. */
int
pick_reseller(struct job *j)
{
	const char *pick = NULL;
	size_t named = 0;

	if (j->nresellers == 1)
		pick = j->resellers[0];
	else {
		for (size_t i = 0; i < j->rm.naccounts; i++)
			if (in_strlist(j->resellers, j->nresellers, j->rm.accounts[i]) &&
			    (pick == NULL || strcmp(pick, j->rm.accounts[i]) != 0)) {
				pick = j->rm.accounts[i];
				named++;
			}
		if (named != 1) {
			struct buf l;
			buf_init(&l);
			for (size_t i = 0; i < j->nresellers; i++)
				buf_addf(&l, "%s%s", i ? ", " : "", j->resellers[i]);
			reason_add(j, "the sender is a contact of several resellers "
			    "(%s) and the ticket %s", l.s, named ? "names more "
			    "than one of them" : "does not say which one");
			buf_free(&l);
			return 1;
		}
	}
	if (store_account_get(j->s, pick, &j->reseller) != 0) {
		log_warnx("ticket %lld: reseller %s not found", (long long)j->id,
		    pick);
		return -1;
	}
	j->have_reseller = 1;
	return 0;
}

/*
 * Replies go to Reply-To only when it cannot be a thief's address: the
 * From address itself, an address of the From domain when the sender is
 * authenticated, or another contact of a reseller the sender is a contact
 * of. Otherwise the Reply-To is dropped and the reply goes to From (the
 * real contact, who also learns of a forged request). -1 on a store error.
 */
int
check_reply_to(struct store *s, struct msg *m, int auth_ok)
{
	const char *rt = m ? m->reply_to_addr : NULL, *fd, *rd;
	char **a = NULL, **b = NULL;
	size_t na = 0, nb = 0, i, k;
	int keep = 0;

	if (rt == NULL || m->from_addr == NULL)
		return 0;
	fd = strrchr(m->from_addr, '@');
	rd = strrchr(rt, '@');
	if (strcasecmp(rt, m->from_addr) == 0 ||
	    (auth_ok && fd && rd && strcasecmp(fd, rd) == 0))
		return 0;
	if (store_contact_resellers(s, m->from_addr, &a, &na) < 0 ||
	    store_contact_resellers(s, rt, &b, &nb) < 0)
		keep = -1;
	for (i = 0; keep == 0 && i < na; i++)
		for (k = 0; k < nb; k++)
			if (strcmp(a[i], b[k]) == 0)
				keep = 1;
	for (i = 0; i < na; i++)
		free(a[i]);
	for (k = 0; k < nb; k++)
		free(b[k]);
	free(a);
	free(b);
	if (keep < 0)
		return -1;
	if (!keep) {
		log_info("reply: Reply-To %s is not the sender's: answering "
		    "%s", rt, m->from_addr);
		free(m->reply_to_addr);
		m->reply_to_addr = NULL;
	}
	return 0;
}
