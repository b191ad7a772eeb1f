// The expected failures of webhook management, beside the domain's own (ValidationError, NotFound).

/** No such endpoint, or one of an organisation the caller may not see: the two are indistinguishable on purpose. */
export class WebhookNotFoundError extends Error {
  constructor(readonly webhookId: string) {
    super(`webhook "${webhookId}" not found`);
    this.name = 'WebhookNotFoundError';
  }
}
