/** The component as a library: `import { GaiaDatabase } from "gaia-database"` (package.json exports). */
export { GaiaDatabase, type GaiaDatabaseArgs } from "./gaiaDatabase";
export { GaiaConfigError } from "./config";
