/* emgap-apply - verify, plan and apply mitigations on an isolated server. */
#include "apply/cmds.h"
#include "cli.h"

static const char usage[] =
	"usage: emgap-apply COMMAND [OPTIONS]   (all take --config FILE, default /etc/emgap/apply.conf)\n"
	"\n"
	"  run [--dry-run] [--bundle FILE]       verify the newest bundle and apply it\n"
	"  status [--identity ID] [--csv FILE] [--json]\n"
	"  get-server [--json] | get-server --all --share DIR\n"
	"  block [--force] ID...  |  unblock ID...\n"
	"  set-server [--mitigations-enabled true|false] [--mitigations-blocked ID,...]\n"
	"  set-org --mitigations-enabled true|false\n"
	"  revert [--no-block] ID...\n"
	"  check-source\n"
	"  audit --verify\n"
	"  service [--first-delay S] [--interval S] [--jitter S]   hourly, as a daemon\n"
	"\n"
	"Exit codes: 0 ok, 2 usage, 3 config, 4 verification, 5 freshness, 6 apply failed,\n"
	"7 I/O, 8 busy. See emgap-apply(1).\n";

int main(int argc, char **argv)
{
	static const emg_cli_cmd cmds[] = {
		{"run", emg_apply_cmd_run},
		{"revert", emg_apply_cmd_revert},
		{"status", emg_apply_cmd_status},
		{"get-server", emg_apply_cmd_get_server},
		{"block", emg_apply_cmd_block},
		{"unblock", emg_apply_cmd_unblock},
		{"set-server", emg_apply_cmd_set_server},
		{"set-org", emg_apply_cmd_set_org},
		{"check-source", emg_apply_cmd_check_source},
		{"audit", emg_apply_cmd_audit},
		{"service", emg_apply_cmd_service},
	};

	return emg_cli_dispatch("emgap-apply", usage, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
