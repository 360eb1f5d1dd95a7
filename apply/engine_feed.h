/* engine_feed.h - the accepted feed, kept in the state dir.
 *
 * After a bundle verifies and is accepted, its parsed feed is written to
 * <state>/feed. Later runs with no newer bundle read it back instead of
 * verifying the bundle again: the file was written by emgap from verified
 * data and sits in the state dir only emgap may write, so an idle hourly
 * run costs little more than a process start. */
#ifndef EMG_APPLY_ENGINE_FEED_H
#define EMG_APPLY_ENGINE_FEED_H

#include "bundle/feed.h"
#include "err.h"

int emg_feedcache_save(const char *state_dir, const emg_feed *feed, emg_err *err);
/* *feed NULL (and EMG_OK) when there is no cache. The feed is built with
 * the same allocator as emg_feed_parse's: free it with emg_feed_free. */
int emg_feedcache_load(const char *state_dir, emg_feed **feed, emg_err *err);

#endif
