/* fixture_data.h - made by tests/fuzz/make-seeds.sh; do not edit. */
#ifndef EMG_FUZZ_FIXTURE_DATA_H
#define EMG_FUZZ_FIXTURE_DATA_H
#define EMG_FUZZ_AT ((time_t)1795634727)
static const char emg_fuzz_root_pub[] =
	"untrusted comment: minisign public key CA5A3C3D4AFD4C8F\n"
	"RWSPTP1KPTxayrvJVlTxYPQZU5rfoblx878b2sXSFr/KGBea/F5IFXC+\n"
	;
static const char emg_fuzz_anchors_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDNDCCAhygAwIBAgIUL/n+QyygZf0yDO3X/O7/GHPdyO4wDQYJKoZIhvcNAQEL\n"
	"BQAwMjETMBEGA1UECgwKZW1nYXAgdGVzdDEbMBkGA1UEAwwSZW1nYXAgVGVzdCBS\n"
	"b290IENBMB4XDTI2MTEyNTE4MjUyNloXDTQ2MTEyMDE4MjUyNlowMjETMBEGA1UE\n"
	"CgwKZW1nYXAgdGVzdDEbMBkGA1UEAwwSZW1nYXAgVGVzdCBSb290IENBMIIBIjAN\n"
	"BgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxKKm865CnQ6HKip/wmEtomtjZDAj\n"
	"YrAeEBKiuzLMPWMdASyI21UqEJJo22LY++le/1bH4Ztojdcca7dSfZB7IDGzadZt\n"
	"KrzwxuVulUW9Ugk+ig1zrMn3b7k93MK1pLbgf00mdOsOe7dmjTNOrOYEvYeu399p\n"
	"k56iIQaPMLwv3g5HuCAJpOrqnQQKLuCFEMmrmMoQxcIYIaidMgFPa12PEHm7a2lO\n"
	"UfMbG2Wm3WjXYj/V72Lci5qDhxOlQleB4J4hydq7kADiiQtEoiL1Yx3JNapoU49J\n"
	"ejXOxcak1bS8neay6E0dMfPCLL+8ZiAUR+mFlJZmt/gif9eaznhIINyQaQIDAQAB\n"
	"o0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQU\n"
	"GY458MDdjQ1in6arG1c1mPxhTuswDQYJKoZIhvcNAQELBQADggEBAF6mRaWnPq4E\n"
	"QOl90IW8JiEJkYYVskspRrW9HrpUVo/s5qdDhV0owNHfgEICSS9CyWuVKo8YxeA3\n"
	"IhPEmEQt9qM7zK0ZgzRxbQiwlTCpdrhR214XhTEHf4S0E4qsGaRXQmSv8lcOtkdc\n"
	"7XMiVFWUtmIcrPd1UNuC4IgIBdxTFXYZzVxpNWNsV0QsH7QAx0EIx0AzVxjgIDiy\n"
	"DM+h1hi2Qw5M0ya6ErIf+Ed6xHGp2J4nePHsO0qVhRp9kPn8ABOO9i1fqkZ4clTb\n"
	"CpfhXyeYx9wnQQRJwME4o9hg2KSZ3Ezw6AvFTXyrD7Q/dVxmzJYF0RmIIm8njZvX\n"
	"stnDFbkaTs0=\n"
	"-----END CERTIFICATE-----\n"
	;
#endif
