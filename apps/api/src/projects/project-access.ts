import type { Db } from 'mongodb';
import { projectsCollection } from '@novee/shared';
import { forbidden, notFound } from '../http/http-error';

/** Who may manage a project's webhook: members listed in the `projects` collection. */
export class ProjectAccess {
  constructor(private readonly db: Db) {}

  /** Resolves when `subject` is a member of the project; 404 when the project does not exist, 403 otherwise. */
  async assertMember(projectId: string, subject: string): Promise<void> {
    const project = await projectsCollection(this.db).findOne({ _id: projectId }, { projection: { members: 1 } });
    if (!project) throw notFound(`No project with id ${projectId} was found`);
    if (!project.members?.includes(subject)) throw forbidden(`You are not a member of project ${projectId}`);
  }

  /** Create the project if needed and add members (used by the CLI). */
  async addMembers(projectId: string, members: string[], name?: string): Promise<void> {
    await projectsCollection(this.db).updateOne(
      { _id: projectId },
      { $addToSet: { members: { $each: members } }, ...(name ? { $set: { name } } : {}) },
      { upsert: true },
    );
  }
}
