/* fuzz_bundle_feed.c - the vendor feed parser (emg_feed_parse): any bytes,
 * no crash, no leak, no network, no entity expansion. A feed that parses
 * holds no more than the limits allow, and every action's sub-id is
 * "<Config id>.<n>" in document order. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bundle/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_item(const emg_mitigation *m)
{
	char want[512];
	size_t j;

	if (m->id == NULL || m->action_count > EMG_FEED_MAX_ACTIONS)
		__builtin_trap();
	for (j = 0; j < m->action_count; j++) {
		const emg_action *a = &m->actions[j];
		if (a->subid == NULL)
			__builtin_trap();
		if (strlen(m->id) < sizeof want - 32) {
			snprintf(want, sizeof want, "%s.%zu", m->id, j + 1);
			if (strcmp(want, a->subid) != 0)
				__builtin_trap();
		}
		if ((unsigned)a->type > EMG_ACTION_UNSUPPORTED || (unsigned)a->scope > EMG_SCOPE_VDIR)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	emg_feed *feed = NULL;
	emg_err err;
	size_t i;

	if (emg_feed_parse(data, size, &feed, &err) != EMG_OK) {
		if (feed != NULL || (err.code != EMG_ECONFIG && err.code != EMG_EIO))
			__builtin_trap();
		return 0;
	}
	if (feed->count > EMG_FEED_MAX_CONFIGS)
		__builtin_trap();
	for (i = 0; i < feed->count; i++)
		check_item(&feed->items[i]);
	emg_feed_free(feed);
	return 0;
}
