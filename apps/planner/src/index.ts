export { syncSchedules, startPlanner, runPlannerProcess, type ScheduleSync, type RunningPlanner } from './planner-process.js';
