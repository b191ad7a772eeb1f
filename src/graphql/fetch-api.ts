// The Response class of the server adapter yoga runs on (@whatwg-node): answers built with it are
// written to the socket directly, where a global (undici) Response is read back through a stream.
export { Response } from '@whatwg-node/fetch';
