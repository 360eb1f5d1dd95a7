/* emgap-bundle - create, sign, verify and inspect bundles; verify feeds. */
#include <stdio.h>
#include <string.h>

#include "bundle/cmds.h"
#include "err.h"
#include "version.h"

static const char usage[] =
	"usage: emgap-bundle COMMAND [OPTIONS]\n"
	"\n"
	"  create  --feed XML --pki DIR --sequence N --expires DATE -o BUNDLE\n"
	"  sign    --secret FILE --cert CERT [--passphrase-file F] BUNDLE\n"
	"  verify  --trust DIR [--state DIR] [--at TIME] [--json] BUNDLE\n"
	"  inspect [--json] BUNDLE\n"
	"  extract --trust DIR -C DIR BUNDLE\n"
	"  verify-feed --anchors PEM [--crl-dir DIR] [--ctl-dir DIR] [--at TIME]\n"
	"              [--crl-time TIME] [--eku OID]... [--subject TEXT]\n"
	"              [--allow-missing-crl] [--json] FEED.xml\n"
	"\n"
	"Exit codes: 0 ok, 2 usage, 3 malformed input, 4 verification failed,\n"
	"5 expired/revoked/rollback, 7 I/O. See emgap-bundle(1).\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{"create", emg_cmd_create},   {"sign", emg_cmd_sign},
		{"verify", emg_cmd_verify},   {"inspect", emg_cmd_inspect},
		{"extract", emg_cmd_extract}, {"verify-feed", emg_cmd_verify_feed},
	};
	size_t i;

	if (argc < 2) {
		fputs(usage, stderr);
		return EMG_EUSAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, stdout);
		return EMG_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("emgap-bundle %s\n", EMG_VERSION);
		return EMG_OK;
	}
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "emgap-bundle: unknown command '%s'\n%s", argv[1], usage);
	return EMG_EUSAGE;
}
