import type { Db } from 'mongodb';
import { projectsCollection } from '@novee/shared';
import { forbidden, notFound } from '../http/http-error';

/** The answers for a project that does not exist or that the caller is not a member of (management and ingestion). */
export const projectNotFound = (projectId: string) => notFound(`No project with id ${projectId} was found`);
export const notAMember = (projectId: string) => forbidden(`You are not a member of project ${projectId}`);

/** Who may manage a project's webhook: members listed in the `projects` collection. */
export class ProjectAccess {
  constructor(private readonly db: Db) {}

  /** Resolves when `subject` is a member of the project; 404 when the project does not exist, 403 otherwise. */
  async assertMember(projectId: string, subject: string): Promise<void> {
    const project = await projectsCollection(this.db).findOne({ _id: projectId }, { projection: { members: 1 } });
    if (!project) throw projectNotFound(projectId);
    if (!project.members?.includes(subject)) throw notAMember(projectId);
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
