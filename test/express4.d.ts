// Express 4, installed under the alias "express4", shares the typings of "express".
declare module 'express4' {
  import express from 'express'
  export default express
}
