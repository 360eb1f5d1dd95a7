# apply_iis_samples.sh - the sample Exchange 2019 server tree looks like a
# real one to real tools: every config file is well-formed (xmllint), has
# CRLF line endings, applicationHost.config has the UTF-8 BOM IIS writes,
# the URL Rewrite module and the Exchange pools and sites are declared, and
# every vDir's physical path exists in the tree (as resolved by xmlstarlet
# here, independently of emgap's own resolver).
. "$EMGAP_SRC/tests/lib/testlib.sh"
[ "$EMGAP_VARIANT" = release ] || exit 0

ROOT=$EMGAP_SRC/samples/exchange2019
AH=$ROOT/Windows/System32/inetsrv/config/applicationHost.config

if [ -f "$AH" ]; then pass "applicationHost.config present"; else fail "applicationHost.config present" "$AH"; exit 0; fi

# Well-formed and CRLF, every config file.
bad_xml=""
bad_eol=""
find "$ROOT" -name '*.config' >"$T/configs"
while IFS= read -r f; do
	xmllint --noout --nonet "$f" 2>/dev/null || bad_xml="$bad_xml $f"
	# Every LF must follow a CR.
	lf=$(tr -cd '\n' <"$f" | wc -c)
	crlf=$(grep -c "$(printf '\r')\$" "$f")
	[ "$lf" -eq "$crlf" ] && [ "$lf" -gt 0 ] || bad_eol="$bad_eol $f"
done <"$T/configs"
n=$(wc -l <"$T/configs")
if [ "$n" -ge 20 ]; then pass "at least 20 config files ($n)"; else fail "at least 20 config files" "$n"; fi
if [ -z "$bad_xml" ]; then pass "all config files well-formed"; else fail "all config files well-formed" "$bad_xml"; fi
if [ -z "$bad_eol" ]; then pass "all config files use CRLF"; else fail "all config files use CRLF" "$bad_eol"; fi

if [ "$(head -c 3 "$AH" | od -An -tx1 | tr -d ' ')" = efbbbf ]; then
	pass "applicationHost.config starts with a UTF-8 BOM"
else
	fail "applicationHost.config starts with a UTF-8 BOM" "$(head -c 3 "$AH" | od -An -tx1)"
fi

sel() { xmlstarlet sel -t "$@" "$AH"; }

img=$(sel -v "/configuration/system.webServer/globalModules/add[@name='RewriteModule']/@image")
if [ "$img" = '%SystemRoot%\system32\inetsrv\rewrite.dll' ]; then pass "RewriteModule in globalModules"; else fail "RewriteModule in globalModules" "$img"; fi

missing=""
for p in MSExchangeOWAAppPool MSExchangeECPAppPool MSExchangeOABAppPool MSExchangeAutodiscoverAppPool \
	MSExchangePowerShellAppPool MSExchangePowerShellFrontEndAppPool MSExchangeServicesAppPool \
	MSExchangeMapiFrontEndAppPool MSExchangeRpcProxyFrontEndAppPool MSExchangeSyncAppPool; do
	[ "$(sel -v "count(/configuration/system.applicationHost/applicationPools/add[@name='$p'])")" = 1 ] || missing="$missing $p"
done
if [ -z "$missing" ]; then pass "Exchange application pools declared once each"; else fail "Exchange application pools declared once each" "$missing"; fi

s1=$(sel -v "/configuration/system.applicationHost/sites/site[@name='Default Web Site']/@id")
s2=$(sel -v "/configuration/system.applicationHost/sites/site[@name='Exchange Back End']/bindings/binding[@protocol='https']/@bindingInformation")
if [ "$s1" = 1 ] && [ "$s2" = '*:444:' ]; then pass "sites: Default Web Site id 1, Exchange Back End on 444"; else fail "sites" "$s1 / $s2"; fi

# Every physicalPath, mapped the plain way (C:\ and %SystemDrive% to the
# root, backslashes to slashes), must exist exactly as written; the tree
# keeps the case IIS has except where a test wants a difference.
sel -m "//virtualDirectory" -v "@physicalPath" -n >"$T/phys"
nodir=""
count=0
while IFS= read -r p; do
	[ -n "$p" ] || continue
	count=$((count + 1))
	rel=$(printf '%s' "$p" | sed -e 's|^%SystemDrive%||' -e 's|^[Cc]:||' | tr '\\' '/')
	# Windows ignores case; so does this lookup, one component at a time.
	cur=$ROOT
	IFS_OLD=$IFS
	IFS=/
	for comp in $rel; do
		[ -n "$comp" ] || continue
		hit=$(ls -1 "$cur" 2>/dev/null | awk -v c="$comp" 'tolower($0) == tolower(c) { print; exit }')
		if [ -z "$hit" ]; then cur=""; break; fi
		cur=$cur/$hit
	done
	IFS=$IFS_OLD
	[ -n "$cur" ] && [ -d "$cur" ] || nodir="$nodir [$p]"
done <"$T/phys"
if [ "$count" -ge 20 ] && [ -z "$nodir" ]; then pass "all $count vDir physical paths exist in the tree"; else fail "vDir physical paths exist" "$count:$nodir"; fi

# The variety the edit tests rely on.
fe="$ROOT/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy"
check "ecp has a <rewrite> with rules" grep -q '<rule name="Block external ECP"' "$fe/ecp/web.config"
check "autodiscover has an empty <rules />" grep -q '<rules />' "$fe/autodiscover/web.config"
check "PowerShell has no <system.webServer>" sh -c "! grep -q 'system.webServer' \"$fe/PowerShell/web.config\""
check "EWS uses single quotes and tabs" grep -q "$(printf "\t\t\t<rules></rules>")" "$fe/EWS/web.config"
