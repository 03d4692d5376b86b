// server-status: the core types and helpers, and the Express adapter.
export { serverStatus } from './express/index.js'
export { defaultClassify, statusOf, uptimeOf } from './classify.js'
export { ServerStatusError } from './errors.js'
export type {
  DayReport,
  DayRow,
  Logger,
  MinuteCounts,
  MinuteRow,
  Outcome,
  RouteName,
  RouteRecord,
  RouteReport,
  ServerStatusOptions,
  Status,
  StatusHandle,
  StatusReport,
  Store,
} from './types.js'
