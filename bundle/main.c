/* emgap-bundle - create, sign, verify and inspect bundles; verify feeds. */
#include <stdio.h>
#include <string.h>

#include "bundle/cmds.h"
#include "cli.h"

static const char usage[] =
	"usage: emgap-bundle COMMAND [OPTIONS]\n"
	"\n"
	"  create  --feed XML --pki DIR --sequence N --expires DATE -o BUNDLE\n"
	"          [--created TIME] [--fetched TIME] [--source URL] [--extra DIR]\n"
	"          [--root-rotation FILE --root-rotation-sig SIG...]\n"
	"  sign    --secret FILE --cert CERT [--passphrase-file F | --no-passphrase] BUNDLE\n"
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
	static const emg_cli_cmd cmds[] = {
		{"create", emg_cmd_create},   {"sign", emg_cmd_sign},
		{"verify", emg_cmd_verify},   {"inspect", emg_cmd_inspect},
		{"extract", emg_cmd_extract}, {"verify-feed", emg_cmd_verify_feed},
	};

	/* "emgap-bundle create --help": every subcommand is in the one usage. */
	if (argc >= 3 && strcmp(argv[1], "verify-feed") != 0 &&
	    (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	return emg_cli_dispatch("emgap-bundle", usage, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
