// Type-checks a TypeScript user of the built package's declarations.
import express from 'express'
import { serverStatus, type StatusReport } from 'server-status/express'
import type { ServerStatusOptions, Store } from 'server-status'

const options: ServerStatusOptions = { database: 'sqlite://:memory:', days: 7 }
const app = express()
const status = serverStatus(app, options)
const report: Promise<StatusReport> = status.report()
const store: Store | null = null
void report
void store
