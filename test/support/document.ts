/**
 * A Document's columns as the example app stores them (example-app/app.js, defineDocument), typed
 * for a record saved with a file; tests of records without one compare these columns with null.
 */
export interface DocumentParams {
  id: number | string
  title: string
  filePath: string
  fileName: string
  fileSize: number | string
  fileMimeType: string
  [column: string]: unknown
}
