//! The Rust API: a [`Client`] from options or the environment, one
//! [`Client::call`] per call, an [`Answer`] or an [`Error`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use serde_json::Value;

use crate::call::answer::Success;
use crate::call::input::{CallInput, Media};
use crate::env::{Context, ProcessEnv};
use crate::error::{ApiError, ErrorClass, ErrorKind, Wording};
use crate::mode::{self, Report, Token};
use crate::options::{Config, Millis};
use crate::token::{
    default_store, CachedStore, ComponentHooks, ComponentTokens, TokenFunction, TokenReply,
    TokenStore,
};

/// A configured client: what `cloud.init(options)` creates in Node.
///
/// The environment (a cloud function's variables, `WX_APPID`, …) is read
/// once, when the client is created: from the `processEnv` option when it is
/// given, else from the process.
///
/// ```
/// use serde_json::json;
/// // HTTPS mode, the token managed by the client.
/// let client = wx_cloud_core::Client::from_options(json!({
///     "appid": "wx0emulatorapp0001",
///     "secret": "emulator-app-secret",
/// }))
/// .unwrap();
/// // A bad option is named in the error.
/// let err = wx_cloud_core::Client::from_options(json!({ "timeout": "soon" })).unwrap_err();
/// assert!(err.err_msg().contains("timeout"), "{err}");
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    config: Arc<Config>,
    context: Arc<Context>,
    /// The account calls act for (`openapi({ appid })`), see [`Client::for_appid`].
    appid: Option<String>,
    /// `openapi({ convertCase })`, see [`Client::without_case_conversion`].
    convert_case: bool,
    /// The managed third-party tokens (`componentAppid` + `componentAppsecret`).
    tokens: Option<Arc<ComponentTokens>>,
    /// The application's token function, see [`Client::with_token_function`].
    token_function: Option<AskToken>,
}

/// A token function and the init option that holds it.
#[derive(Clone)]
struct AskToken {
    name: &'static str,
    ask: TokenFunction,
}

impl fmt::Debug for AskToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} function", self.name)
    }
}

/// A file sent as a media param (`{ contentType, value, fileName }` in
/// Node): e.g. `media` of `security.imgSecCheck` or
/// `customerServiceMessage.uploadTempMedia`. See [`Client::call_with_media`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    /// Its content type, e.g. `image/png`.
    pub content_type: String,
    /// Its file name (default: the param's name with an extension for the content type).
    pub file_name: Option<String>,
    /// Its bytes.
    pub data: Vec<u8>,
}

impl Client {
    /// A client configured by the process environment alone, like
    /// `cloud.init()` with no options: a cloud function's credentials, or
    /// `WX_APPID` + `WX_APPSECRET`, pick the mode.
    pub fn from_env() -> Result<Client, Error> {
        Client::from_options(Value::Object(Default::default()))
    }

    /// A client from the options of `cloud.init()` (a JSON object,
    /// camelCase keys: `env`, `appid`, `secret`, `accessToken`,
    /// `authorizerAccessToken`, `apiBaseUrl`, `timeout`, `processEnv`, …;
    /// see the package's README). Token functions are a JavaScript feature:
    /// give tokens as strings.
    ///
    /// The SDK-managed third-party mode (`componentAppid` +
    /// `componentAppsecret`, the authorizer from `authorizerAppid` or
    /// [`Client::for_appid`]) keeps its tokens in a [`TokenStore`]: by
    /// default one in this process's memory, shared by the clients of the
    /// same API base URL; [`Client::with_token_store`] shares them between
    /// processes (e.g. the `redis` feature's `RedisStore`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use serde_json::json;
    /// use wx_cloud_core::{token::{keys, MemoryStore, TokenStore}, Client};
    /// let emulator = wx_cloud_emulator::Emulator::start(Default::default()).await?;
    /// // WeChat pushes the ticket to the platform's event URL; here it is stored by hand.
    /// let store = MemoryStore::new();
    /// store.set(&keys::ticket("wx0emulatorcomp001"), "any-ticket", None).await?;
    /// let client = Client::from_options(json!({
    ///     "componentAppid": "wx0emulatorcomp001",
    ///     "componentAppsecret": "emulator-component-secret",
    ///     "authorizerAppid": "wx0emulatorauth001",
    ///     "authorizerRefreshToken": "emulator-refresh-token",
    ///     "apiBaseUrl": emulator.https_base_url(),
    /// }))?
    /// .with_token_store(store);
    /// let made = client
    ///     .call("tcb.createenvandresource", json!({ "type": "CreatePostpayPackage", "alias": "shop" }))
    ///     .await?;
    /// assert_eq!(made.json().unwrap()["errCode"], 0);
    /// emulator.close().await;
    /// # Ok(()) }
    /// ```
    pub fn from_options(options: Value) -> Result<Client, Error> {
        Config::from_value(&options)
            .map(|config| {
                Client::from_config(Config {
                    wording: Wording::Rust,
                    ..config
                })
            })
            .map_err(Error)
    }

    /// This client, the managed third-party tokens kept in `store` instead
    /// of this process's memory (a client of another mode is returned as
    /// it is: it keeps no tokens in a store).
    pub fn with_token_store(&self, store: impl TokenStore) -> Client {
        self.with_tokens(CachedStore::new(Arc::new(store)), Default::default())
    }

    /// This client, the managed third-party tokens kept in `store` (with
    /// the process-local cache it shares with other clients and event
    /// handlers) and the application's `hooks` (the Node package's
    /// `getComponentVerifyTicket` and friends). A client of another mode is
    /// returned as it is.
    pub fn with_tokens(&self, store: Arc<CachedStore>, hooks: ComponentHooks) -> Client {
        let tokens = match (&self.config.component, &self.tokens) {
            (Some(settings), Some(_)) => Some(ComponentTokens::new(
                settings.clone(),
                store,
                hooks,
                self.config.timeout(),
                self.config.wording,
            )),
            _ => None,
        };
        Client {
            tokens,
            ..self.clone()
        }
    }

    /// A client of validated options (what [`Client::from_options`] makes
    /// of JSON), for the bindings, which read the options themselves.
    pub fn from_config(config: Config) -> Client {
        let context = match &config.process_env {
            Some(vars) => Context::snapshot(&vars.0),
            None => Context::snapshot(&ProcessEnv),
        };
        let tokens = match (&config.component, mode::token_function(&config)) {
            (Some(settings), Some("component")) => {
                let base = crate::https::base_url(&config, &context).unwrap_or_default();
                Some(ComponentTokens::new(
                    settings.clone(),
                    default_store(&base),
                    Default::default(),
                    config.timeout(),
                    config.wording,
                ))
            }
            _ => None,
        };
        Client {
            config: Arc::new(config),
            context: Arc::new(context),
            appid: None,
            convert_case: true,
            tokens,
            token_function: None,
        }
    }

    /// This client, asking `ask` for each call's token when the options give
    /// `accessToken` or `authorizerAccessToken` as a function (the Node
    /// package's token functions; a client of another mode is returned as it
    /// is). A call asks it, and when WeChat rejects that token asks again
    /// (`force_refresh`) and retries once with a new one; asking counts
    /// against the call's `timeout`.
    #[doc(hidden)]
    pub fn with_token_function(&self, ask: TokenFunction) -> Client {
        let name = match mode::token_function(&self.config) {
            Some(n @ ("accessToken" | "authorizerAccessToken")) => n,
            _ => return self.clone(),
        };
        Client {
            token_function: Some(AskToken { name, ask }),
            ..self.clone()
        }
    }

    /// The validated options.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The environment read when the client was made (`processEnv`, else
    /// the process's).
    pub fn context(&self) -> &Arc<Context> {
        &self.context
    }

    /// Send one call as a binding makes it (see [`Request`]): the one way
    /// every call goes, [`Client::call`] included.
    pub async fn send(&self, request: Request) -> Sent {
        let context = request.context.unwrap_or_else(|| self.context.clone());
        if let (Some(f), None) = (&self.token_function, &request.token) {
            return self.send_asking(f, &context, &request.input).await;
        }
        let config = self.config_within(request.timeout);
        let token = match (&self.tokens, &request.token) {
            (Some(managed), None) => Token::Managed(managed),
            _ => request.token.as_deref().into(),
        };
        let (result, report) = mode::run(&config, &context, &request.input, token).await;
        Sent {
            result,
            report,
            rejected: None,
        }
    }

    /// The options, the call's timeout shortened to `timeout` when that is less.
    fn config_within(&self, timeout: Option<Duration>) -> Arc<Config> {
        match timeout {
            Some(t) if t < self.config.timeout() => {
                let mut c = (*self.config).clone();
                c.timeout = Some(Millis(t.max(Duration::from_millis(1))));
                Arc::new(c)
            }
            _ => self.config.clone(),
        }
    }

    /// A call with the application's token function: ask it, call; when
    /// WeChat rejects that token (which proves the call was not executed),
    /// ask again and retry once with a different one. One deadline for the
    /// whole call, the asking included.
    async fn send_asking(&self, f: &AskToken, context: &Context, input: &CallInput) -> Sent {
        let deadline = Instant::now() + self.config.timeout();
        let appid = input.appid.clone().or_else(|| self.config.appid.clone());
        let send = |token: String| async move {
            let left = deadline.saturating_duration_since(Instant::now());
            let config = self.config_within(Some(left));
            let (result, report) = mode::run(&config, context, input, Token::Given(&token)).await;
            Sent {
                result,
                report,
                rejected: None,
            }
        };
        let unsent = |e: ApiError| Sent {
            result: Err(e.for_api(&input.display_api())),
            report: Report::default(),
            rejected: None,
        };
        let first = match self.ask_token(f, &appid, false, deadline).await {
            Ok(t) => t,
            Err(e) => return unsent(e),
        };
        let sent = send(first.clone()).await;
        if sent.result.is_ok() || !sent.report.token_rejected {
            return sent;
        }
        match self.ask_token(f, &appid, true, deadline).await {
            Ok(second) if second != first => Sent {
                rejected: Some(Box::new(sent)),
                ..send(second).await
            },
            Ok(_) => sent,
            Err(e) => unsent(e),
        }
    }

    /// The token function's token within the deadline.
    async fn ask_token(
        &self,
        f: &AskToken,
        appid: &Option<String>,
        force_refresh: bool,
        deadline: Instant,
    ) -> Result<String, ApiError> {
        let asked = tokio::time::timeout_at(deadline, (f.ask)((appid.clone(), force_refresh)));
        let detail = match asked.await {
            Ok(Ok(TokenReply::Token(t))) if !t.is_empty() => return Ok(t),
            Ok(Ok(TokenReply::Token(_))) => "must return a non-empty string, got a string".into(),
            Ok(Ok(TokenReply::NotAToken(what))) => {
                format!("must return a non-empty string, got {what}")
            }
            Ok(Err(why)) => format!("failed: {why}"),
            Err(_) => format!(
                "failed: it did not return within {} ms",
                self.config.timeout().as_millis()
            ),
        };
        Err(ApiError::failed(
            ErrorKind::Config,
            ErrorClass::Cloud,
            crate::codes::INVALID_COMMON_PARAM,
            format!("the {} function {detail}", f.name),
        ))
    }

    /// A client from `cloud.init()` options and these environment variables
    /// instead of the process's (as the `processEnv` option, which must then
    /// not be given too): e.g. an emulator's `cloud_env()`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use serde_json::json;
    /// let emulator = wx_cloud_emulator::Emulator::start(Default::default()).await?;
    /// let client = wx_cloud_core::Client::with_env(json!({}), emulator.cloud_env())?;
    /// // The gateway knows no such API: the error keeps its code.
    /// let err = client.call("tcb.nosuchapi", json!({})).await.unwrap_err();
    /// assert_eq!(err.err_code(), -604100, "{err}");
    /// emulator.close().await;
    /// # Ok(()) }
    /// ```
    pub fn with_env<I, K, V>(options: Value, vars: I) -> Result<Client, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut options = options;
        let Some(object) = options.as_object_mut() else {
            // Not an object: the options parser names the problem.
            return Client::from_options(options);
        };
        if object.contains_key("processEnv") {
            return Err(Error(
                ApiError::invalid_param(
                    "give the environment either as the processEnv option or to \
                 Client::with_env, not both",
                )
                .for_api("init"),
            ));
        }
        let vars: serde_json::Map<String, Value> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), Value::String(v.into())))
            .collect();
        object.insert("processEnv".into(), Value::Object(vars));
        Client::from_options(options)
    }

    /// What one call asks for: the params' JSON text, with each file's
    /// marker in place of its param as the Node layer sends media (the
    /// marker is drawn until no string of the params holds it).
    fn call_input(
        &self,
        api: String,
        params: Value,
        files: Vec<(String, MediaFile)>,
    ) -> Result<CallInput, ApiError> {
        let mut input = CallInput {
            api,
            params_json: None,
            media: Vec::new(),
            appid: self.appid.clone(),
            convert_case: self.convert_case,
            marker: None,
        };
        if files.is_empty() {
            input.params_json = (!params.is_null()).then(|| params.to_string());
            return Ok(input);
        }
        let mut object = match params {
            Value::Object(m) => m,
            Value::Null => serde_json::Map::new(),
            _ => {
                return Err(ApiError::invalid_param(
                    "params must be a JSON object to carry media params",
                ))
            }
        };
        // A map of JSON values always serialises.
        let text = serde_json::to_string(&object).unwrap_or_default();
        let marker = loop {
            let m = format!("\u{0}{:016x}", fastrand::u64(..));
            // In JSON text the NUL is escaped.
            if !text.contains(&format!("\\u0000{}", &m[1..])) {
                break m;
            }
        };
        for (i, (name, file)) in files.into_iter().enumerate() {
            if name.is_empty() {
                return Err(ApiError::invalid_param("a media param needs a name"));
            }
            object.insert(name, Value::String(format!("{marker}m{i}")));
            input.media.push(Media {
                content_type: file.content_type,
                file_name: file.file_name,
                data: file.data,
            });
        }
        input.params_json = Some(Value::Object(object).to_string());
        input.marker = Some(marker);
        Ok(input)
    }

    /// This client, its calls acting for the account `appid`, as
    /// `cloud.openapi({ appid })` in Node: the cloud call sends it to the
    /// gateway, the third-party mode needs that authorizer's token, and the
    /// HTTPS mode with another app's credentials rejects with -501007
    /// naming `appid` (never the default account's token).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use serde_json::json;
    /// let emulator = wx_cloud_emulator::Emulator::start(Default::default()).await?;
    /// let client = wx_cloud_core::Client::with_env(json!({}), emulator.cloud_env())?;
    /// let params = json!({ "type": "CreatePostpayPackage", "alias": "shop" });
    /// let made = client.for_appid("wxshop0000000001").call("tcb.createenvandresource", params).await?;
    /// let envid = made.json().unwrap()["envid"].as_str().unwrap().to_string();
    /// let record = emulator.environments().into_iter().find(|e| e.env == envid).unwrap();
    /// assert_eq!(record.account, "wxshop0000000001");
    /// emulator.close().await;
    /// # Ok(()) }
    /// ```
    pub fn for_appid(&self, appid: impl Into<String>) -> Client {
        Client {
            appid: Some(appid.into()),
            ..self.clone()
        }
    }

    /// This client, its calls sending params and returning results with
    /// their keys as they are (no camelCase ↔ snake_case conversion), as
    /// `cloud.openapi({ convertCase: false })` in Node.
    pub fn without_case_conversion(&self) -> Client {
        Client {
            convert_case: false,
            ..self.clone()
        }
    }

    /// Call `openapi.{api}` (e.g. `tcb.createenvandresource`) with its
    /// params (a JSON object, camelCase keys converted as in Node; `null`
    /// for none). Must run inside a Tokio runtime.
    pub async fn call(&self, api: &str, params: Value) -> Result<Answer, Error> {
        self.call_with_media(api, params, Vec::new()).await
    }

    /// [`Client::call`] with files: each `(name, file)` is the top-level
    /// param `name` (e.g. `media`), sent as the cloud call and the HTTPS
    /// modes send a media param of Node (a multipart file part over HTTPS).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use serde_json::json;
    /// use wx_cloud_core::{Client, MediaFile};
    /// let emulator = wx_cloud_emulator::Emulator::start(Default::default()).await?;
    /// let client = Client::with_env(json!({}), emulator.cloud_env())?;
    /// let png = MediaFile { content_type: "image/png".into(), file_name: None, data: vec![0x89, b'P', b'N', b'G'] };
    /// let r = client
    ///     .call_with_media("customerServiceMessage.uploadTempMedia", json!({ "type": "image" }), vec![("media".into(), png)])
    ///     .await?;
    /// assert!(r.json().unwrap()["mediaId"].is_string());
    /// emulator.close().await;
    /// # Ok(()) }
    /// ```
    pub async fn call_with_media(
        &self,
        api: &str,
        params: Value,
        media: Vec<(String, MediaFile)>,
    ) -> Result<Answer, Error> {
        let api = api.strip_prefix("openapi.").unwrap_or(api).to_string();
        let display = format!("openapi.{api}");
        let input = self
            .call_input(api, params, media)
            .map_err(|e| Error(e.for_api(&display)))?;
        let sent = self
            .send(Request {
                input,
                ..Request::default()
            })
            .await;
        match sent.result.map_err(Error)? {
            Success::Json(text) => serde_json::from_str(&text).map(Answer::Json).map_err(|e| {
                Error(ApiError::new(
                    ErrorKind::BadAnswer,
                    ErrorClass::Plain,
                    crate::codes::WX_SYSTEM_ERROR,
                    e.to_string(),
                ))
            }),
            Success::Binary { content_type, data } => Ok(Answer::Binary { content_type, data }),
        }
    }
}

/// One call as a binding makes it ([`Client::send`]): the params as JSON
/// text (with out-of-band markers for values JSON cannot carry), the
/// environment of this call (else the client's), a token the caller
/// obtained (else the configured or managed one), and what is left of the
/// call's deadline (else the `timeout` option).
#[derive(Default)]
pub struct Request {
    /// The API, params, media and `openapi({ appid, convertCase })`.
    pub input: CallInput,
    /// A token the caller obtained (a token function's).
    pub token: Option<String>,
    /// What is left of the call's deadline.
    pub timeout: Option<Duration>,
    /// The environment of this call.
    pub context: Option<Arc<Context>>,
}

/// What a sent [`Request`] gave: the result as the wire gave it (JSON text
/// or bytes, not parsed) and what the debug line reports.
pub struct Sent {
    /// The result, or the error (its `{api}:fail ` prefix added).
    pub result: Result<Success, ApiError>,
    /// Mode, sends, retries, request ids, path (empty when nothing was
    /// sent because the token function failed).
    pub report: Report,
    /// The send before this one, whose token WeChat rejected (a token
    /// function's: this one was sent with the token it gave next).
    pub rejected: Option<Box<Sent>>,
}

/// A call's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The result object, with `errCode: 0` and `errMsg: "openapi.{api}:ok"`.
    Json(Value),
    /// A binary answer (an image, …).
    Binary {
        /// WeChat's content type.
        content_type: String,
        /// The answer's bytes.
        data: Vec<u8>,
    },
}

impl Answer {
    /// The result object, unless the answer is binary.
    pub fn json(&self) -> Option<&Value> {
        match self {
            Answer::Json(v) => Some(v),
            Answer::Binary { .. } => None,
        }
    }
}

/// A failed call or invalid options: the `errCode` and `errMsg` the Node
/// package rejects with (secrets redacted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(ApiError);

impl Error {
    /// The errCode: WeChat's (e.g. 40001), or the SDK's own (-501001 a
    /// transport failure, -501002 a timeout, -501006 no usable credentials,
    /// -501007 an invalid parameter, -601001 an answer not understood).
    pub fn err_code(&self) -> i64 {
        self.0.err_code
    }

    /// `openapi.{api}:fail …` (or `init:fail …` for bad options).
    pub fn err_msg(&self) -> &str {
        &self.0.err_msg
    }

    /// Whether Node would reject with a `CloudSDKError` (WeChat and platform
    /// errors) rather than a plain `Error` (gateway and HTTP failures).
    pub fn is_cloud_sdk_error(&self) -> bool {
        self.0.class == ErrorClass::Cloud
    }

    /// What kind of failure this is: the retry policies read it (a
    /// connection that could not be made is retried, a busy answer when
    /// `retry.onBusy` asks for it, a rejected token is renewed once).
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// Whether the call may have executed (the request may have reached the
    /// server and been acted on): such a call must not be sent again unless
    /// the caller accepts doing it twice.
    pub fn may_have_executed(&self) -> bool {
        self.0.may_have_executed()
    }

    /// The raw answer body, when the failure came with one.
    pub fn raw_body(&self) -> Option<&[u8]> {
        self.0.raw_body.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Error {}
