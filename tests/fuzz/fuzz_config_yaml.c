/* fuzz_config_yaml.c - the configuration file (DESIGN.md
 * "Configuration"): config_load_mem(), the loader behind config_load(),
 * on the bytes as a tfadesk.yaml. Its errors go to stderr (run.sh closes
 * it). */
#include "fuzz.h"
#include "tfadesk.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c;

	c = config_load_mem((const char *)data, size, "fuzz.yaml", "/nonexistent");
	if (c != NULL) {
		config_sms_allowed(c, "447400123456");
		config_free(c);
	}
	return 0;
}
