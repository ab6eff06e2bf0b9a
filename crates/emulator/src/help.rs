//! The emulator's command-line options, described once: the
//! `wx-cloud-emulator` binary and `npx wx-cloud-openapi emulator` (cli.js,
//! through the addon) print this text under their own usage line, and
//! above their own exit codes.

/// What the emulator command does, its options and the note on secrets.
pub const OPTIONS: &str = "
Run the local emulator of the cloud-base gateway and the WeChat HTTPS API
until SIGINT/SIGTERM. Prints its URL, the credentials a WeChat client must use
(app, third-party platform, authorizers), and, as export lines, the
environment a cloud function needs to call it.

  --port N                     port to listen on (default: a free port)
  --host IP                    address to listen on (default: 127.0.0.1; any
                               other address is reachable from other machines:
                               a warning is printed)
  --data FILE                  keep environments in FILE (loaded at start; each
                               one is on disk before its creation is answered)
  --env-id ID                  the emulated function's environment (default:
                               emulator-env)
  gateway (cloud calls):
  --secret-id ID               secretId the gateway accepts (with a secretKey;
                               or WX_EMULATOR_SECRET_ID)
  --secret-key KEY             its secretKey (or WX_EMULATOR_SECRET_KEY)
  WeChat door (HTTPS and third-party calls):
  --appid ID                   app accepted by /cgi-bin/token and stable_token
                               (with an app secret; default wx0emulatorapp0001)
  --app-secret S               its secret (or WX_EMULATOR_APP_SECRET)
  --component-appid ID         third-party platform (with its secret; default
                               wx0emulatorcomp001)
  --component-appsecret S      its secret (or WX_EMULATOR_COMPONENT_APPSECRET)
  --component-verify-ticket T  the only ticket accepted (or
                               WX_EMULATOR_COMPONENT_VERIFY_TICKET; default: any
                               non-empty one)
  --authorizer APPID:TOKEN     an authorized account and its refresh token;
                               repeatable (or WX_EMULATOR_AUTHORIZERS, comma-
                               separated; default wx0emulatorauth001)
  --rotate-refresh-tokens      every api_authorizer_token replaces the refresh
                               token and refuses the old one (default: it stays
                               the same, as WeChat documents)
  --token-lifetime S           lifetime of issued access tokens, seconds
                               (default: 7200)
  --token-grace S              how long a replaced token stays valid, seconds
                               (default: 300)
  event push (the platform's event URL, see docs/third-party-events.md):
  --component-event-url URL    push the verify ticket and authorization events,
                               encrypted, to URL (with a token and a key); then
                               api_component_token accepts only a pushed ticket
                               (or --component-verify-ticket)
  --component-token T          the platform's message-check token (or
                               WX_EMULATOR_COMPONENT_TOKEN)
  --component-encoding-aes-key K
                               its 43-character EncodingAESKey (or
                               WX_EMULATOR_COMPONENT_ENCODING_AES_KEY)
  --ticket-interval-ms N       push a new ticket at start and every N ms
                               (default: 600000, WeChat's 10 minutes; 0: none,
                               then only --component-verify-ticket is accepted)
  -h, --help                   show this help

Flag values show in the process list: pass secrets through the environment
variables above. Secrets you give are never printed: the export lines refer to
the variable they came from.

";
