export { gatewayCall } from "./gateway";
