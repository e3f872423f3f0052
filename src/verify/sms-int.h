/*
 * sms-int.h - inside SMS delivery: the gateway ops that sms.c dispatches
 * through (as fdm's deliver-* behind struct deliver), one file each:
 * sms-spool.c (a maildir) and sms-http.c (an HTTP gateway, its presets a
 * table).
 */
#ifndef SMS_INT_H
#define SMS_INT_H

struct config;
struct sms;

struct sms_ops {
	const char *name;       /* sms.transport */
	/* Reads the settings into S->priv: 0, or -1 logged with *EX the
	 * exit status. close() is called after a failed open too. */
	int (*open)(struct sms *, const struct config *, int *ex);
	/* 0 accepted; -1 failed, logged, *WHY a short static reason. The
	 * text is never logged; the number only masked. */
	int (*send)(struct sms *, const char *to_digits, const char *text,
	    const char **why);
	void (*close)(struct sms *);
};

struct sms {
	const struct sms_ops *ops;
	void *priv;
	char desc[256];         /* sms_describe; set by open */
};

extern const struct sms_ops sms_spool_ops;
extern const struct sms_ops sms_http_ops;

#endif
