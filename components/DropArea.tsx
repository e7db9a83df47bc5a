import React, { useState } from 'react'
import { Box, Text } from '@adminjs/design-system'

export interface DropAreaProps {
  /** Opens the file picker. */
  onOpen(): void
  onFiles(files: FileList): void
  /** Takes the whole drop instead of onFiles (to read dropped folders). */
  onDropTransfer?(transfer: DataTransfer): void
  text: string
  /** The limits, shown under the text. */
  constraints: string
}

/** Click, Enter/Space or drop a file here. */
const DropArea: React.FC<DropAreaProps> = ({ onOpen, onFiles, onDropTransfer, text, constraints }) => {
  const [dragging, setDragging] = useState(false)
  const over = (event: React.DragEvent) => {
    event.preventDefault()
    setDragging(true)
  }
  const drop = (event: React.DragEvent) => {
    event.preventDefault()
    event.stopPropagation()
    setDragging(false)
    if (onDropTransfer && event.dataTransfer) {
      onDropTransfer(event.dataTransfer)
      return
    }
    const files = event.dataTransfer?.files
    if (files && files.length > 0) onFiles(files)
  }
  return (
    <Box
      data-testid="resumable-dropzone"
      role="button"
      tabIndex={0}
      onClick={onOpen}
      onKeyDown={(event: React.KeyboardEvent) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault()
          onOpen()
        }
      }}
      onDragOver={over}
      onDragEnter={over}
      onDragLeave={() => setDragging(false)}
      onDrop={drop}
      p="xl"
      bg={dragging ? 'primary20' : 'white'}
      style={{
        border: '1px dashed',
        borderColor: dragging ? '#4268F6' : '#BBC3CB',
        borderRadius: 4,
        cursor: 'pointer',
        textAlign: 'center',
      }}
    >
      <Text>{text}</Text>
      {constraints ? <Text color="grey80" fontSize="sm" mt="sm">{constraints}</Text> : null}
    </Box>
  )
}

export default DropArea
