import React from 'react'
import { Box, Button } from '@adminjs/design-system'

import type { T } from './i18n.js'

export interface OrderButtonsProps {
  name: string
  first: boolean
  last: boolean
  onMove(delta: number): void
  tb: T
}

/** Move up / Move down: the keyboard's way (and a screen reader's) to reorder what drag does. */
const OrderButtons: React.FC<OrderButtonsProps> = ({ name, first, last, onMove, tb }) => (
  <Box flex flexDirection="row" style={{ gap: 4 }}>
    <Button type="button" size="sm" variant="text" data-testid="resumable-move-up" disabled={first}
      aria-label={tb('resumable.moveUpNamed', 'Move up: {{name}}', { name })} onClick={() => onMove(-1)}>
      {tb('resumable.moveUp', 'Move up')}
    </Button>
    <Button type="button" size="sm" variant="text" data-testid="resumable-move-down" disabled={last}
      aria-label={tb('resumable.moveDownNamed', 'Move down: {{name}}', { name })} onClick={() => onMove(1)}>
      {tb('resumable.moveDown', 'Move down')}
    </Button>
  </Box>
)

export default OrderButtons
