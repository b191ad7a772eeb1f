// Column names of the settings, shared by the SQLite and PostgreSQL schemas.

/** Column name of a setting: its legacy key in snake_case (maximumAttachmentSizeBytes -> maximum_attachment_size_bytes). */
export function settingColumnName(legacyKey: string): string {
  return legacyKey.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
