# applyfix.sh - fixtures for emgap-apply's tests (sourced after testlib.sh
# and pki.sh): a vendor PKI, organisation keys and trust dir, a small
# Exchange 2019 server tree with CRLF config files, signed bundles.
#
#   apply_fixture DIR        everything below, under DIR
#   apply_feed DIR NAME XML  sign XML as the vendor -> DIR/NAME.xml
#   apply_bundle DIR XML SEQ OUT [EXPIRES]  create + sign a bundle
#
# Left in DIR: pki/ (vendor), trust/, state/, root/ (server root, C:\),
# src/ (a bundle source directory), apply.conf, org.conf path (absent).

apply__crlf() { sed 's/$/\r/'; }

apply__tree() { # ROOT
	af_r=$1
	mkdir -p "$af_r/Windows/System32/inetsrv/config" "$af_r/inetpub/wwwroot" \
		"$af_r/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa" \
		"$af_r/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/ecp" || return 1
	apply__crlf >"$af_r/Windows/System32/inetsrv/config/applicationHost.config" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<configuration>
    <system.applicationHost>
        <applicationPools>
            <add name="DefaultAppPool" />
            <add name="MSExchangeECPAppPool" managedRuntimeVersion="v4.0" autoStart="true" />
            <add name="MSExchangeOWAAppPool" managedRuntimeVersion="v4.0" />
        </applicationPools>
        <sites>
            <site name="Default Web Site" id="1">
                <application path="/" applicationPool="DefaultAppPool">
                    <virtualDirectory path="/" physicalPath="%SystemDrive%\inetpub\wwwroot" />
                </application>
                <application path="/owa" applicationPool="MSExchangeOWAAppPool">
                    <virtualDirectory path="/" physicalPath="C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa" />
                </application>
                <application path="/ecp" applicationPool="MSExchangeECPAppPool">
                    <virtualDirectory path="/" physicalPath="C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\ecp" />
                </application>
            </site>
        </sites>
    </system.applicationHost>
    <system.webServer>
        <globalModules>
            <add name="UriCacheModule" image="%windir%\System32\inetsrv\cachuri.dll" />
            <add name="RewriteModule" image="%SystemRoot%\system32\inetsrv\rewrite.dll" />
        </globalModules>
    </system.webServer>
</configuration>
XML
	apply__crlf >"$af_r/inetpub/wwwroot/web.config" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<configuration>
    <system.webServer>
        <httpRedirect enabled="false" />
    </system.webServer>
</configuration>
XML
	apply__crlf >"$af_r/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/web.config" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <!-- OWA front end -->
  <system.webServer>
    <handlers accessPolicy="Read, Script" />
  </system.webServer>
</configuration>
XML
	printf 'service\tMSExchangeUM\tAutomatic\trunning\nservice\tMSExchangeUMCR\tManual\tstopped\napppool\tMSExchangeECPAppPool\trunning\napppool\tMSExchangeOWAAppPool\trunning\n' \
		>"$af_r/emgap-sim-host.txt"
}

# The test feed: a heartbeat, a Site rule, two Server rules, a VDir rule, a
# service, an app pool, an obsolete one and an unsupported action type.
apply__feed_xml() {
	cat <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<EOCS version="1.0.4">
  <Config id="PING1" desc="EEMS Heartbeat probe.">
    <ActionList>
      <Action type="DoNothing" scope="Server" desc="Ping."><Value>DoNothing</Value></Action>
    </ActionList>
  </Config>
  <Config id="M1" desc="CVE-2022-41040">
    <Applies product="Exchange2019" min="15.2.0.0" max="15.2.1118.15"/>
    <ActionList>
      <Action type="IISUrlRewrite" scope="Site" site="Default Web Site" desc="M1 rule">
        <Value><rule name="EEMS M1.1 PowerShell - inbound" patternSyntax="ECMAScript" stopProcessing="true"><match url=".*"/><conditions logicalGrouping="MatchAll"><add input="{UrlDecode:{REQUEST_URI}}" pattern="(?=.*autodiscover)(?=.*powershell)"/></conditions><action type="AbortRequest"/></rule></Value>
      </Action>
    </ActionList>
  </Config>
  <Config id="M2" desc="backend cookies">
    <ActionList>
      <Action type="IISUrlRewrite" scope="Server" desc="anon">
        <Value><rule name="X-AnonResource-Backend Abort - inbound" stopProcessing="true"><match url=".*"/><conditions><add input="{HTTP_COOKIE}" pattern="(.*)X-AnonResource-Backend(.*)"/></conditions><action type="AbortRequest"/></rule></Value>
      </Action>
      <Action type="IISUrlRewrite" scope="Server" desc="beresource">
        <Value><rule name="X-BEResource Abort - inbound" stopProcessing="true"><match url=".*"/><conditions><add input="{HTTP_COOKIE}" pattern="(.*)X-BEResource=(.+)/(.+)~(.+)"/></conditions><action type="AbortRequest"/></rule></Value>
      </Action>
    </ActionList>
  </Config>
  <Config id="M3" desc="OWA vdir rule">
    <ActionList>
      <Action type="IISUrlRewrite" scope="VDir" site="Default Web Site" path="/owa" desc="owa">
        <Value><rule name="EEMS M3.1 OWA - inbound" stopProcessing="true"><match url=".*"/><conditions><add input="{QUERY_STRING}" pattern="evil"/></conditions><action type="AbortRequest"/></rule></Value>
      </Action>
    </ActionList>
  </Config>
  <Config id="UM" desc="Unified Messaging">
    <ActionList>
      <Action type="Service" scope="Server" desc="UM"><Value>MSExchangeUM</Value></Action>
    </ActionList>
  </Config>
  <Config id="ECP" desc="ECP pool">
    <ActionList>
      <Action type="AppPool" scope="Server" desc="ECP"><Value>MSExchangeECPAppPool</Value></Action>
    </ActionList>
  </Config>
  <Config id="OLD" desc="fixed long ago">
    <Applies product="Exchange2019" min="15.2.0.0" max="15.2.900.0"/>
    <ActionList>
      <Action type="Service" scope="Server" desc="old"><Value>MSExchangeUMCR</Value></Action>
    </ActionList>
  </Config>
  <Config id="FUT" desc="unknown kind">
    <ActionList>
      <Action type="RegistryValue" scope="Server" desc="future"><Value>x</Value></Action>
    </ActionList>
  </Config>
</EOCS>
XML
}

apply_feed() { # DIR NAME XML-FILE
	pki_sign_feed "$1/pki" signer "$3" "$1/$2.xml"
}

apply_bundle() { # DIR FEED.xml SEQ OUT [EXPIRES]
	af_b=$1/tmp-$3.bundle
	emgap-bundle create --feed "$2" --pki "$1/pki" --sequence "$3" --expires "${5:-2099-01-01}" \
		-o "$af_b" >/dev/null 2>"$1/bundle.err" &&
		emgap-bundle sign --secret "$1/sign.key" --cert "$1/sign.cert" "$af_b" >/dev/null 2>>"$1/bundle.err" &&
		mv "$af_b" "$4"
}

apply_conf() { # DIR
	cat >"$1/apply.conf" <<EOF
[server]
name = EXCH01
product = Exchange2019
build = 15.2.1118.7
root = root
[trust]
dir = trust
[state]
dir = state
[sources]
path = src
[host]
backend = sim
[org]
settings = org.conf
[log]
syslog = false
EOF
}

apply_fixture() { # DIR
	af_d=$1
	mkdir -p "$af_d/src" "$af_d/trust/roots" || return 1
	pki_make "$af_d/pki" http://127.0.0.1:9/crl >/dev/null 2>&1 || return 1
	org_keys "$af_d" && org_trust "$af_d/trust" "$af_d/root.pub" "$af_d/pki/anchors.pem" || return 1
	apply__tree "$af_d/root" || return 1
	apply__feed_xml >"$af_d/feed.xml"
	apply_feed "$af_d" signed "$af_d/feed.xml" || return 1
	apply_conf "$af_d"
}
