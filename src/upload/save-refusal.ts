import { en } from '../shared/locale-en.js'

type RefusalName = keyof typeof en.messages.resumable.saveRefusals

/**
 * A Save refused for a reason the admin can act on (an expired upload, a hook's verdict, a file
 * listed twice): its message is shown on the property. Any other error during Save is a fault,
 * logged and answered with a generic message (notStored).
 *
 * `key` names the words in the feature's locale tables (`messages.<key>`), so the page shows them in
 * the admin's language; a hook's own words have none and are shown as they are.
 */
export class SaveRefusal extends Error {
  override name = 'SaveRefusal'

  constructor(message: string, readonly key: string | null = null) {
    super(message)
  }

  /** One of the feature's own refusals, in English here and in the admin's language on the page. */
  static of(name: RefusalName): SaveRefusal {
    return new SaveRefusal(en.messages.resumable.saveRefusals[name], `resumable.saveRefusals.${name}`)
  }
}
