/** Topic names (DESIGN.md): one place builds them, so publishers and subscribers agree. */
export const topics = {
  user: (id: string) => `user:${id}`,
  /** a user's device: device ids are chosen by clients, so the topic names the user too */
  device: (user: string, device: string) => `device:${user}/${device}`,
  room: (id: string) => `room:${id}`,
  network: (id: string) => `network:${id}`,
  tenant: (id: string) => `tenant:${id}`,
};
