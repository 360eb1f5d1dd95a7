/* version.h - the one version string all emgap tools print. */
#ifndef EMG_VERSION_H
#define EMG_VERSION_H

#define EMG_VERSION "0.1.0"

#endif
