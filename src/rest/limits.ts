// Limits of the REST API, documented in the README and the OpenAPI description.

/** Largest accepted request body; the largest valid configuration is well under 400 KB of JSON. */
export const bodyLimitBytes = 1_048_576;
