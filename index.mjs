// The ES module entry (`import cloud, { init, openapi } from 'wx-cloud-openapi'`):
// the same object as `require('wx-cloud-openapi')`, its members as named exports.
import cloud from './index.js'

export default cloud
export const {
  init,
  updateConfig,
  openapi,
  DYNAMIC_CURRENT_ENV,
  CloudSDKError,
  Cloud,
  version,
  explainConfig,
  getWXContext,
  signature,
  startEmulator,
  createComponentEventHandler,
  memoryStore,
  redisStore,
} = cloud
