export { en, type ResumableTranslation } from '../shared/locale-en.js'
