// Requires the built package by name with CommonJS, as a user's app does.
const { serverStatus, defaultClassify } = require('server-status')
const express = require('server-status/express')

if (typeof serverStatus !== 'function' || typeof express.serverStatus !== 'function') throw new Error('serverStatus is missing')
if (defaultClassify(200) !== 'success') throw new Error('defaultClassify(200) is not success')
console.log('cjs ok')
