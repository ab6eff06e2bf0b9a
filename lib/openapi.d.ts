// Types of the most used cloud.openapi APIs (params in camelCase, as written
// in code; results as resolved, keys camelCased). Kept beside the path table
// (crates/core/src/https/paths.json): each namespace here is a family of its rows. Any
// other API is typed generically (index.d.ts, GenericApi).
import type { GenericApi, GenericNamespace, MediaParam, OpenApiBufferResult, OpenApiOk } from '../index'

/** `{ r, g, b }`, decimal. */
export interface RgbColor {
  r: number | string
  g: number | string
  b: number | string
}

/** Which version of the mini program a code or link opens. */
export type EnvVersion = 'release' | 'trial' | 'develop'

/** `wxacode.getUnlimited` (POST /wxa/getwxacodeunlimit): unlimited codes. */
export interface GetUnlimitedParams {
  /** At most 32 visible characters: digits, letters, `!#$&'()*+,/:;=?@-._~`. */
  scene: string
  /** A published page, e.g. `pages/index/index` (no leading `/`, no query); default the home page. */
  page?: string
  checkPath?: boolean
  envVersion?: EnvVersion
  /** 280 … 1280 px, default 430. */
  width?: number
  autoColor?: boolean
  lineColor?: RgbColor
  isHyaline?: boolean
}

/** `wxacode.get` (POST /wxa/getwxacode): codes limited in number. */
export interface WxacodeGetParams {
  /** Page with its query, at most 1024 characters. */
  path: string
  width?: number
  autoColor?: boolean
  lineColor?: RgbColor
  isHyaline?: boolean
  envVersion?: EnvVersion
}

/** `wxacode.createQRCode` (POST /cgi-bin/wxaapp/createwxaqrcode): square QR codes. */
export interface CreateQRCodeParams {
  path: string
  width?: number
}

export interface WxacodeNamespace {
  /** The image (`contentType` `image/jpeg` or `image/png`); a WeChat error rejects. */
  getUnlimited: ((params: GetUnlimitedParams) => Promise<OpenApiBufferResult>) & GenericNamespace
  get: ((params: WxacodeGetParams) => Promise<OpenApiBufferResult>) & GenericNamespace
  createQRCode: ((params: CreateQRCodeParams) => Promise<OpenApiBufferResult>) & GenericNamespace
  [name: string]: GenericApi
}

/** `subscribeMessage.send` (POST /cgi-bin/message/subscribe/send). */
export interface SubscribeMessageSendParams {
  /** The receiver's openid. */
  touser: string
  templateId: string
  page?: string
  /** `{ thing1: { value: '…' }, … }`, the template's keywords. */
  data: Record<string, { value: string | number }>
  miniprogramState?: 'developer' | 'trial' | 'formal'
  lang?: 'zh_CN' | 'en_US' | 'zh_HK' | 'zh_TW'
}

export interface SubscribeMessageNamespace {
  send: ((params: SubscribeMessageSendParams) => Promise<OpenApiOk>) & GenericNamespace
  [name: string]: GenericApi
}

/** `security.msgSecCheck` (POST /wxa/msg_sec_check). Version 2 needs `openid` and `scene`. */
export interface MsgSecCheckParams {
  content: string
  version?: 1 | 2
  openid?: string
  /** 1 profile, 2 comment, 3 forum, 4 social log. */
  scene?: 1 | 2 | 3 | 4
  title?: string
  nickname?: string
  signature?: string
}

/** Result of `security.msgSecCheck` (version 2 adds the verdict). */
export interface MsgSecCheckResult extends OpenApiOk {
  traceId?: string
  result?: { suggest: 'risky' | 'pass' | 'review'; label: number }
  detail?: Array<{ strategy: string; errcode: number; suggest?: string; label?: number; prob?: number; keyword?: string }>
}

/** `security.imgSecCheck` (POST /wxa/img_sec_check, multipart `media`). */
export interface ImgSecCheckParams {
  media: MediaParam
}

export interface SecurityNamespace {
  /** Rejects with errCode 87014 when the text is risky. */
  msgSecCheck: ((params: MsgSecCheckParams) => Promise<MsgSecCheckResult>) & GenericNamespace
  /** Rejects with errCode 87014 when the image is risky. */
  imgSecCheck: ((params: ImgSecCheckParams) => Promise<OpenApiOk>) & GenericNamespace
  [name: string]: GenericApi
}

/** `customerServiceMessage.uploadTempMedia` (POST /cgi-bin/media/upload?type=…, multipart `media`). */
export interface UploadTempMediaParams {
  type: 'image'
  media: MediaParam
}

export interface UploadTempMediaResult extends OpenApiOk {
  type: string
  /** Valid for 3 days. */
  mediaId: string
  createdAt: number
}

/** `customerServiceMessage.send` (POST /cgi-bin/message/custom/send). */
export interface CustomerServiceMessageSendParams {
  touser: string
  msgtype: 'text' | 'image' | 'link' | 'miniprogrampage'
  text?: { content: string }
  image?: { mediaId: string }
  link?: { title: string; description: string; url: string; thumbUrl: string }
  miniprogrampage?: { title: string; pagepath: string; thumbMediaId: string }
}

export interface CustomerServiceMessageNamespace {
  uploadTempMedia: ((params: UploadTempMediaParams) => Promise<UploadTempMediaResult>) & GenericNamespace
  send: ((params: CustomerServiceMessageSendParams) => Promise<OpenApiOk>) & GenericNamespace
  /** GET /cgi-bin/media/get: the file. */
  getTempMedia: ((params: { mediaId: string }) => Promise<OpenApiBufferResult>) & GenericNamespace
  [name: string]: GenericApi
}

/** Expiry of a URL scheme or link: `expireType` 0 with `expireTime`, 1 with `expireInterval` (days). */
export interface LinkExpiry {
  isExpire?: boolean
  expireType?: 0 | 1
  expireTime?: number
  expireInterval?: number
}

/** `urlscheme.generate` (POST /wxa/generatescheme). */
export interface UrlschemeGenerateParams extends LinkExpiry {
  jumpWxa?: { path?: string; query?: string; envVersion?: EnvVersion }
}

export interface UrlschemeNamespace {
  /** `openlink`: `weixin://dl/business/?t=…`. */
  generate: ((params: UrlschemeGenerateParams) => Promise<OpenApiOk & { openlink: string }>) & GenericNamespace
  [name: string]: GenericApi
}

/** `urllink.generate` (POST /wxa/generate_urllink). */
export interface UrllinkGenerateParams extends LinkExpiry {
  path?: string
  query?: string
  envVersion?: EnvVersion
  cloudBase?: { env: string; domain?: string; path?: string; query?: string; resourceAppid?: string }
}

export interface UrllinkNamespace {
  /** `urlLink`: `https://wxaurl.cn/…`. */
  generate: ((params: UrllinkGenerateParams) => Promise<OpenApiOk & { urlLink: string }>) & GenericNamespace
  [name: string]: GenericApi
}

/** Result of `phonenumber.getPhoneNumber` (POST /wxa/business/getuserphonenumber). */
export interface GetPhoneNumberResult extends OpenApiOk {
  phoneInfo: {
    /** With the country code for numbers outside the mainland. */
    phoneNumber: string
    purePhoneNumber: string
    countryCode: string | number
    watermark: { timestamp: number; appid: string }
  }
}

export interface PhonenumberNamespace {
  /** `code` from the button's `bindgetphonenumber` event (single use, 5 minutes). */
  getPhoneNumber: ((params: { code: string; openid?: string }) => Promise<GetPhoneNumberResult>) & GenericNamespace
  [name: string]: GenericApi
}

/** `cloud.signature({ type: 'midas', params, secret })`: replaced by its signature when the call is made. */
export interface MidasSignature {
  readonly type: 'midas'
  /** The params it signs (camelCase or snake_case names). */
  params: string[]
  /** The midas secret (not enumerable). */
  secret: string
}

/** Params every midas API takes (`sig`: a cloud.signature() value, or a signature you computed). */
export interface MidasParams {
  openid: string
  appid: string
  offerId: string
  /** UNIX time in seconds. */
  ts: number
  zoneId: string
  pf: string
  userIp?: string
  sig: MidasSignature | string
  [param: string]: unknown
}

export interface MidasBalanceResult extends OpenApiOk {
  balance: number
  genBalance: number
  firstSave: number | boolean
  saveAmt: number
  saveSum: number
  costSum: number
  presentSum: number
}

/** Result of pay, cancelPay and present (and their Sandbox twins). */
export interface MidasBillResult extends OpenApiOk {
  billNo: string
  balance?: number
  [key: string]: unknown
}

type MidasCall<P, R> = ((params: P) => Promise<R>) & GenericNamespace

export interface MidasNamespace {
  getBalance: MidasCall<MidasParams, MidasBalanceResult>
  getBalanceSandbox: MidasCall<MidasParams, MidasBalanceResult>
  pay: MidasCall<MidasParams & { amt: number; billNo: string; appRemark?: string }, MidasBillResult>
  paySandbox: MidasCall<MidasParams & { amt: number; billNo: string; appRemark?: string }, MidasBillResult>
  cancelPay: MidasCall<MidasParams & { billNo: string; payItem?: string }, MidasBillResult>
  cancelPaySandbox: MidasCall<MidasParams & { billNo: string; payItem?: string }, MidasBillResult>
  present: MidasCall<MidasParams & { billNo: string; presentCounts: number }, MidasBillResult>
  presentSandbox: MidasCall<MidasParams & { billNo: string; presentCounts: number }, MidasBillResult>
  [name: string]: GenericApi
}

/** `cloud.getWXContext()`: the caller's context inside a cloud function (`{}` outside one). */
export interface WXContext {
  OPENID?: string
  APPID?: string
  UNIONID?: string
  CLIENTIP?: string
  CLIENTIPV6?: string
  /** The environment id (`TCB_ENV`, else `SCF_NAMESPACE`). */
  ENV?: string
  /** What triggered the function (`TCB_SOURCE`). */
  SOURCE?: string
  /** Any other variable listed in `WX_CONTEXT_KEYS` (integers as numbers). */
  [key: string]: string | number | undefined
}
