// Imports the built package by name with ESM, as a user's app does.
import { serverStatus, defaultClassify, ServerStatusError } from 'server-status'
import { serverStatus as fromExpress } from 'server-status/express'

if (serverStatus !== fromExpress) throw new Error('server-status and server-status/express export different serverStatus')
if (typeof serverStatus !== 'function') throw new Error('serverStatus is not a function')
if (defaultClassify(503) !== 'failure') throw new Error('defaultClassify(503) is not failure')
if (!(new ServerStatusError('X', 'y') instanceof Error)) throw new Error('ServerStatusError is not an Error')
console.log('esm ok')
