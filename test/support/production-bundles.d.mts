export function newest(dir: string, ext: string): { file: string; time: number }
export function productionBundles(): Promise<string>
