# admin.sh - fixtures for emgap-apply's admin tests (sourced, POSIX sh,
# after testlib.sh, pki.sh and orgkeys.sh).
#
#   adm_org DIR            vendor test PKI, organisation keys, trust dir
#   adm_bundle DIR SEQ OUT a signed bundle of the admin feed (sequence SEQ)
#   adm_server DIR NAME SHARE
#                          a small Exchange 2019 server tree under DIR/srv,
#                          DIR/apply.conf with sources DIR/src, state
#                          DIR/state, org file SHARE/org.conf and status
#                          files in SHARE/servers; a copy of the pristine
#                          tree in DIR/srv.orig
#
# The admin feed has one mitigation of each kind: PING1 (DoNothing), M1
# (site rewrite rule, description with quotes and commas), M2 (two server
# rewrite rules: M2.1, M2.2), M3 (service), M4 (app pool), M5 (an
# unknown type: Unsupported), M6 (only for older builds: Obsolete).

adm_feed() {
	cat >"$1" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<EOCS version="1.0.4">
  <Config id="PING1" desc="EEMS Heartbeat probe. Does not modify any exchange settings.">
    <ActionList>
      <Action type="DoNothing" scope="Server" desc="Ping mitigation action.">
        <Value>DoNothing</Value>
      </Action>
    </ActionList>
  </Config>
  <Config id="M1" desc="CVE-2022-41040: block &quot;Autodiscover&quot; requests, to PowerShell, early">
    <ActionList>
      <Action type="IISUrlRewrite" scope="Site" site="Default Web Site" desc="URL Rewrite rule, site scope">
        <Value>
          <rule name="EEMS M1.1 PowerShell - inbound" patternSyntax="ECMAScript" stopProcessing="true">
            <match url=".*"/>
            <conditions logicalGrouping="MatchAll" trackAllCaptures="false">
              <add input="{UrlDecode:{REQUEST_URI}}" pattern="(?=.*autodiscover)(?=.*powershell)"/>
            </conditions>
            <action type="AbortRequest"/>
          </rule>
        </Value>
      </Action>
    </ActionList>
  </Config>
  <Config id="M2" desc="CVE-2021-26855: backend cookie rules">
    <ActionList>
      <Action type="IISUrlRewrite" scope="Server" desc="X-AnonResource-Backend">
        <Value>
          <rule name="X-AnonResource-Backend Abort - inbound" stopProcessing="true">
            <match url=".*"/>
            <conditions>
              <add input="{HTTP_COOKIE}" pattern="(.*)X-AnonResource-Backend(.*)"/>
            </conditions>
            <action type="AbortRequest"/>
          </rule>
        </Value>
      </Action>
      <Action type="IISUrlRewrite" scope="Server" desc="X-BEResource">
        <Value>
          <rule name="X-BEResource Abort - inbound" stopProcessing="true">
            <match url=".*"/>
            <conditions>
              <add input="{HTTP_COOKIE}" pattern="(.*)X-BEResource=(.+)/(.+)~(.+)"/>
            </conditions>
            <action type="AbortRequest"/>
          </rule>
        </Value>
      </Action>
    </ActionList>
  </Config>
  <Config id="M3" desc="CVE-2021-26857: stop Unified Messaging">
    <ActionList>
      <Action type="Service" scope="Server" desc="Disable MSExchangeUM">
        <Value>MSExchangeUM</Value>
      </Action>
    </ActionList>
  </Config>
  <Config id="M4" desc="Stop the ECP app pool">
    <ActionList>
      <Action type="AppPool" scope="Server" desc="Stop MSExchangeECPAppPool">
        <Value>MSExchangeECPAppPool</Value>
      </Action>
    </ActionList>
  </Config>
  <Config id="M5" desc="A kind of mitigation emgap does not know">
    <ActionList>
      <Action type="RegistryValue" scope="Server" desc="Set a registry value">
        <Value>HKLM\Software\X</Value>
      </Action>
    </ActionList>
  </Config>
  <Config id="M6" desc="Only for builds before CU12">
    <Applies product="Exchange2019" min="15.2.0.0" max="15.2.986.5"/>
    <ActionList>
      <Action type="Service" scope="Server" desc="Disable MSExchangeUMCR">
        <Value>MSExchangeUMCR</Value>
      </Action>
    </ActionList>
  </Config>
</EOCS>
EOF
}

adm_org() {
	_ad=$1
	mkdir -p "$_ad/trust/roots" "$_ad/pkidir" || return 1
	pki_make "$_ad/pki" || return 1
	cp -r "$_ad/pki/crl" "$_ad/pkidir/crl" || return 1
	adm_feed "$_ad/feed.xml"
	pki_sign_feed "$_ad/pki" signer "$_ad/feed.xml" "$_ad/feed.signed.xml" || return 1
	org_keys "$_ad" && org_trust "$_ad/trust" "$_ad/root.pub" "$_ad/pki/anchors.pem" || return 1
	ADM_ORG=$_ad
}

adm_bundle() { # ORGDIR SEQ OUT
	emgap-bundle create --feed "$1/feed.signed.xml" --pki "$1/pkidir" --sequence "$2" \
		--expires 2099-01-01 -o "$3" >/dev/null 2>&1 &&
		emgap-bundle sign --secret "$1/sign.key" --cert "$1/sign.cert" "$3" >/dev/null 2>&1
}

adm_server() { # DIR NAME SHARE
	_sd=$1
	mkdir -p "$_sd/srv/Windows/System32/inetsrv/config" "$_sd/srv/inetpub/wwwroot" "$_sd/src" || return 1
	cat >"$_sd/srv/Windows/System32/inetsrv/config/applicationHost.config" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost>
    <applicationPools>
      <add name="DefaultAppPool" />
      <add name="MSExchangeECPAppPool" managedRuntimeVersion="v4.0" />
    </applicationPools>
    <sites>
      <site name="Default Web Site" id="1">
        <application path="/">
          <virtualDirectory path="/" physicalPath="%SystemDrive%\inetpub\wwwroot" />
        </application>
      </site>
    </sites>
  </system.applicationHost>
  <system.webServer>
    <globalModules>
      <add name="RewriteModule" image="%SystemRoot%\system32\inetsrv\rewrite.dll" />
    </globalModules>
  </system.webServer>
</configuration>
EOF
	printf '<?xml version="1.0" encoding="UTF-8"?>\r\n<configuration>\r\n  <system.webServer>\r\n  </system.webServer>\r\n</configuration>\r\n' \
		>"$_sd/srv/inetpub/wwwroot/web.config"
	printf 'service\tMSExchangeUM\tAutomatic\trunning\nservice\tMSExchangeUMCR\tManual\trunning\napppool\tMSExchangeECPAppPool\trunning\n' \
		>"$_sd/srv/emgap-sim-host.txt"
	cp -r "$_sd/srv" "$_sd/srv.orig" || return 1
	cat >"$_sd/apply.conf" <<EOF
[server]
name = $2
product = Exchange2019
build = 15.2.1118.7
root = srv
[trust]
dir = $ADM_ORG/trust
[state]
dir = state
[sources]
path = src
[host]
backend = sim
[org]
settings = $3/org.conf
status_dir = $3/servers
[log]
syslog = false
EOF
}
