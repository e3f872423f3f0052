/* fuzz_import_yaml.c - `tfadesk db import FILE.yaml`: import_mem(), the
 * importer behind import_file(), into an in-memory database (the real
 * schema, checks and writes) that already holds samples/accounts.yaml;
 * numbers read under rules/numbering.yaml. Each input runs inside a
 * transaction that is rolled back, so every run starts from that state. */
#include <string.h>

#include "fuzz.h"
#include "tfadesk.h"
#include "store.h"
#include "phone.h"
#include "tfadesk/import.h"

static struct numbering *N;
static struct store *S;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_stats st;
	struct import_opts o;

	memset(&o, 0, sizeof o);     /* a plain import: no flag, no config */

	if (S == NULL) {
		if ((N = numbering_load(fuzz_path("rules/numbering.yaml"))) ==
		    NULL || (S = store_open(":memory:", STORE_CREATE)) == NULL ||
		    store_migrate(S) == -1 || import_file(S, N, "GB",
		    fuzz_path("samples/accounts.yaml"), &o, &st) != 0)
			abort();
	}
	if (store_begin(S) == -1)
		abort();
	import_mem(S, N, "GB", (const char *)data, size, "fuzz.yaml", &o, &st);
	store_rollback(S);
	return 0;
}
